package registrytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// shiftRange moves the request's "bytes=first-last" by n bytes.
func shiftRange(r *http.Request, n int64) {
	spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !ok {
		return
	}
	first, last, ok := strings.Cut(spec, "-")
	f, err1 := strconv.ParseInt(first, 10, 64)
	l, err2 := strconv.ParseInt(last, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return
	}
	r.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", f+n, l+n))
}

// flippingWriter changes the first byte of the body it writes.
type flippingWriter struct {
	http.ResponseWriter
	flipped bool
}

func (w *flippingWriter) Write(b []byte) (int, error) {
	if !w.flipped && len(b) > 0 {
		w.flipped = true
		c := append([]byte(nil), b...)
		c[0] ^= 0x20
		return w.ResponseWriter.Write(c)
	}
	return w.ResponseWriter.Write(b)
}

func (w *flippingWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *flippingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// answerEndlessPage answers GET /v2/<name>/tags/list or
// /v2/<name>/referrers/<digest> with one entry and a Link to the page
// after it; anything else with 404.
func answerEndlessPage(w http.ResponseWriter, r *http.Request, entries int) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page+1))
	next := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	var body any
	rest := strings.TrimPrefix(r.URL.Path, "/v2/")
	switch {
	case strings.HasSuffix(rest, "/tags/list"):
		w.Header().Set("Content-Type", "application/json")
		names := []string{fmt.Sprintf("page-%d", page)}
		if entries > 0 {
			names = make([]string, entries)
			for i := range names {
				names[i] = fmt.Sprintf("page-%d-tag-%d-%s", page, i, strings.Repeat("x", 100))[:100]
			}
		}
		body = map[string]any{"name": strings.TrimSuffix(rest, "/tags/list"), "tags": names}
	case path.Base(path.Dir(rest)) == "referrers":
		w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
		referrers := make([]ocispec.Descriptor, entries)
		for i := range referrers {
			referrers[i] = ocispec.Descriptor{
				MediaType:    ocispec.MediaTypeImageManifest,
				ArtifactType: r.URL.Query().Get("artifactType"),
				Digest:       digest.FromString(fmt.Sprintf("page %d referrer %d", page, i)),
				Size:         100,
			}
		}
		body = ocispec.Index{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageIndex,
			Manifests: referrers,
		}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", next.String()))
	_ = json.NewEncoder(w).Encode(body)
}
