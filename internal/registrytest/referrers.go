package registrytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// WithReferrersAPI adds the OCI 1.1 referrers API, which CNCF Distribution
// v3 lacks, in front of the real registry: manifests are still stored and
// served by Distribution; this layer only remembers which ones name a
// subject, answers GET /v2/<name>/referrers/<digest> from that record, and
// sets OCI-Subject on the manifest PUT as the spec asks, so that clients
// use the API instead of the tag-schema fallback.
func WithReferrersAPI() Option { return func(o *options) { o.referrers = true } }

type referrersAPI struct {
	next http.Handler
	mu   sync.Mutex
	refs map[string][]ocispec.Descriptor // "<repo>@<subject digest>"
}

func newReferrersAPI(next http.Handler) *referrersAPI {
	return &referrersAPI{next: next, refs: map[string][]ocispec.Descriptor{}}
}

func (ra *referrersAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	repo, kind, ref, ok := splitAPIPath(r.URL.Path)
	switch {
	case ok && kind == "referrers" && r.Method == http.MethodGet:
		ra.list(w, r, repo, ref)
	case ok && kind == "manifests" && r.Method == http.MethodPut:
		ra.put(w, r, repo)
	default:
		ra.next.ServeHTTP(w, r)
	}
}

// splitAPIPath splits /v2/<repo>/<kind>/<ref>.
func splitAPIPath(p string) (repo, kind, ref string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return "", "", "", false
	}
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return "", "", "", false
	}
	j := strings.LastIndex(rest[:i], "/")
	if j < 0 {
		return "", "", "", false
	}
	return rest[:j], rest[j+1 : i], rest[i+1:], true
}

func (ra *referrersAPI) put(w http.ResponseWriter, r *http.Request, repo string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var m struct {
		MediaType    string              `json:"mediaType"`
		ArtifactType string              `json:"artifactType"`
		Config       ocispec.Descriptor  `json:"config"`
		Subject      *ocispec.Descriptor `json:"subject"`
		Annotations  map[string]string   `json:"annotations"`
	}
	if json.Unmarshal(body, &m) != nil || m.Subject == nil {
		ra.next.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, onCreated: func(h http.Header) {
		h.Set("OCI-Subject", m.Subject.Digest.String())
	}}
	ra.next.ServeHTTP(rec, r)
	if rec.status != http.StatusCreated {
		return
	}
	artifactType := m.ArtifactType
	if artifactType == "" {
		artifactType = m.Config.MediaType
	}
	desc := ocispec.Descriptor{
		MediaType:    m.MediaType,
		ArtifactType: artifactType,
		Digest:       digest.FromBytes(body),
		Size:         int64(len(body)),
		Annotations:  m.Annotations,
	}
	ra.mu.Lock()
	key := repo + "@" + m.Subject.Digest.String()
	ra.refs[key] = append(ra.refs[key], desc)
	ra.mu.Unlock()
}

func (ra *referrersAPI) list(w http.ResponseWriter, r *http.Request, repo, subject string) {
	if _, err := digest.Parse(subject); err != nil {
		http.Error(w, "bad digest", http.StatusBadRequest)
		return
	}
	want := r.URL.Query().Get("artifactType")
	ra.mu.Lock()
	var manifests []ocispec.Descriptor
	for _, d := range ra.refs[repo+"@"+subject] {
		if want == "" || d.ArtifactType == want {
			manifests = append(manifests, d)
		}
	}
	ra.mu.Unlock()
	if manifests == nil {
		manifests = []ocispec.Descriptor{}
	}
	index := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: manifests,
	}
	w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
	if want != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	_ = json.NewEncoder(w).Encode(index)
}

// statusRecorder remembers the status and adds headers to a 201.
type statusRecorder struct {
	http.ResponseWriter
	status    int
	onCreated func(http.Header)
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	if code == http.StatusCreated {
		s.onCreated(s.Header())
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(p)
}
