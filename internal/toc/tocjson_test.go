package toc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// decodeWithEncodingJSON reads a TOC with encoding/json into estargz's
// JTOC, the structure estargz's reader decodes: the oracle of the scanner.
func decodeWithEncodingJSON(data []byte) (version int, entries []*estargz.TOCEntry, err error) {
	var toc estargz.JTOC
	err = json.Unmarshal(data, &toc)
	return toc.Version, toc.Entries, err
}

// listsEntriesTwice reports whether the object data has more than one key
// that encoding/json takes for JTOC's entries: a TOC the scanner refuses,
// since encoding/json would merge the lists.
func listsEntriesTwice(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if key, ok := tok.(string); ok && strings.EqualFold(key, "entries") {
			seen++
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return seen > 1
}

// decodeWithScanner reads a TOC with the scanner, from r, with a window of
// window bytes to start with.
func decodeWithScanner(r io.Reader, window int) (version int, entries []*estargz.TOCEntry, err error) {
	s := &tocScanner{r: r, buf: make([]byte, window)}
	version, err = s.document(func(e *estargz.TOCEntry) error {
		if e != nil {
			kept := *e // the scanner reuses e, and lends some of its strings
			kept.Name, kept.Digest, kept.ChunkDigest = strings.Clone(e.Name), strings.Clone(e.Digest), strings.Clone(e.ChunkDigest)
			e = &kept
		}
		entries = append(entries, e)
		return nil
	})
	return version, entries, err
}

// sameAsDecoder fails t unless the scanner reads data as encoding/json
// does: both fail, or both give the same version and entries (the scanner
// may also refuse a TOC that lists its entries twice).
func sameAsDecoder(t *testing.T, data []byte) {
	t.Helper()
	wantV, want, wantErr := decodeWithEncodingJSON(data)
	mayRefuse := wantErr != nil || listsEntriesTwice(data)
	if len(want) == 0 {
		want = nil // the scanner gives no list for [] and null alike
	}
	for _, r := range []struct {
		name   string
		r      io.Reader
		window int
	}{
		{"whole", bytes.NewReader(data), 256 << 10},
		{"byte by byte", iotest.OneByteReader(bytes.NewReader(data)), 1},
		{"small window", iotest.HalfReader(bytes.NewReader(data)), 5},
	} {
		v, got, err := decodeWithScanner(r.r, r.window)
		if err != nil && !mayRefuse {
			t.Fatalf("%s: %q: scanner error %v; encoding/json reads it", r.name, data, err)
		}
		if err == nil && wantErr != nil {
			t.Fatalf("%s: %q: scanner read it; encoding/json error %v", r.name, data, wantErr)
		}
		if err != nil {
			continue
		}
		if v != wantV || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %q: scanner gave version %d and\n%s\nencoding/json gave version %d and\n%s", r.name, data, v, dump(got), wantV, dump(want))
		}
	}
}

func dump(entries []*estargz.TOCEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%+v\n", e)
	}
	return b.String()
}

// tocCases are shapes of TOC JSON the scanner must read as encoding/json
// does: what blobber and estargz write, and what else JSON allows.
var tocCases = []string{
	// as estargz writes it
	"{\n\t\"version\": 1,\n\t\"entries\": [\n\t\t{\n\t\t\t\"name\": \"d/\",\n\t\t\t\"type\": \"dir\",\n\t\t\t\"modtime\": \"2026-11-28T00:00:00Z\",\n\t\t\t\"mode\": 493\n\t\t},\n\t\t{\n\t\t\t\"name\": \"d/f\",\n\t\t\t\"type\": \"reg\",\n\t\t\t\"size\": 6388,\n\t\t\t\"offset\": 130,\n\t\t\t\"digest\": \"sha256:cd07\",\n\t\t\t\"chunkDigest\": \"sha256:cd07\"\n\t\t}\n\t]\n}",
	`{"version":1,"entries":[{"name":"a","type":"reg","size":8,"chunkSize":4,"offset":1,"chunkDigest":"x"},{"name":"a","type":"chunk","chunkOffset":4,"chunkSize":4,"offset":5,"innerOffset":7}]}`,
	`{"version":1,"entries":[{"name":"l","type":"symlink","linkName":"/etc","uid":1000,"gid":-1,"userName":"me","groupName":"us","devMajor":0,"devMinor":18}]}`,
	`{"entries":[],"version":1}`,
	`{"version":1,"entries":[]}`,
	`{}`,
	` {"version" : 1 , "entries" : [ { } , { "name" : "x" } ] } ` + "\r\n",
	// what goes to encoding/json: escapes, other keys, other values
	`{"version":1,"entries":[{"name":"a\"b\\c\u00e9\n","type":"reg"}]}`,
	`{"version":1,"entries":[{"NAME":"upper","Type":"reg"}]}`,
	`{"version":1,"entries":[{"name":"a","xattrs":{"user.k":"dmFsdWU="}}]}`,
	`{"version":1,"entries":[{"name":"a","unknown":[1,{"x":"}"}],"size":2}]}`,
	`{"version":1,"entries":[{"name":"a","size":null}]}`,
	`{"version":1,"entries":[null]}`,
	`{"version":1,"entries":[{"name":"a","size":1e3}]}`,
	`{"version":1,"entries":[{"name":"a","size":1.0}]}`,
	`{"version":1,"entries":[{"name":"a","size":99999999999999999999}]}`,
	`{"version":1,"entries":[{"name":"a","size":123456789012345678}]}`,
	`{"version":1,"entries":[{"name":"a","size":-0}]}`,
	`{"version":1,"entries":[{"name":"a","size":012}]}`,
	`{"version":1,"entries":[{"name":"a","size":"12"}]}`,
	`{"version":1,"entries":[{"name":12}]}`,
	`{"version":1,"entries":[{"name":"a","name":"b"}]}`,
	"{\"version\":1,\"entries\":[{\"name\":\"bad \xff utf8\"}]}",
	"{\"version\":1,\"entries\":[{\"name\":\"caf\xc3\xa9\"}]}",
	"{\"version\":1,\"entries\":[{\"name\":\"tab\tinside\"}]}",
	`{"version":1,"entries":[1]}`,
	`{"version":1,"entries":[[]]}`,
	`{"version":"1","entries":[]}`,
	`{"version":1.5,"entries":[]}`,
	`{"version":null,"entries":[]}`,
	`{"\u0076ersion":2,"entries":[]}`,
	`{"version":1,"annotations":{"a":[1,2,{"b":null}]},"entries":[]}`,
	`{"version":1,"entries":[],"entries":[{"name":"again"}]}`,
	// what encoding/json reads into JTOC: null, keys in any case
	`{"version":1,"entries":null}`,
	"{\n\t\"version\": 1,\n\t\"entries\": null\n}",
	`{"entries":null,"version":1}`,
	`null`,
	` null `,
	`{"Version":1,"ENTRIES":[{"name":"a","type":"dir"}]}`,
	"{\"version\":1,\"entrie\u017f\":[{\"name\":\"long s\"}]}",
	`{"version":1,"entries":[{"name":"a"}],"Entries":[{"size":5}]}`,
	`{"version":1,"entries":null,"entries":[{"name":"b"}]}`,
	// malformed
	``,
	`{`,
	`{"version":1,"entries":[{"name":"a"}`,
	`{"version":1,"entries":[{"name":"a"},]}`,
	`{"version":1,"entries":[{"name":"a",}]}`,
	`{"version":1,"entries":[{"name" "a"}]}`,
	`{"version":1,"entries":[{"name":"a"}]}x`,
	`{"version":1,"entries":[{"name":"a"}]}{}`,
	`{"version":1,,"entries":[]}`,
	`{"version":1 "entries":[]}`,
	`{"version":1,"entries":[{"name":"a"}}`,
	`{"version":1,"entries":{}}`,
	`{"version":1,"entries":nul}`,
	`{"version":1,"entries":nullx}`,
	`{"version":1,"other":tru}`,
	`{"version":1,"other":[}`,
	`{"version":1,"entries":[{"name":"a","size":1-2}]}`,
	`{"version":1,"entries":[{"name":"a","size":-}]}`,
	`{"version":1,"entries":[{"name":"a"}]`,
	`[]`,
	`{"version":1,"entries":[,]}`,
}

func TestScannerReadsAsEncodingJSON(t *testing.T) {
	for _, c := range tocCases {
		sameAsDecoder(t, []byte(c))
	}
}

// FuzzTOCJSON checks the scanner against encoding/json. Its seeds in
// testdata/fuzz/FuzzTOCJSON include the TOCs of the writers blobber must
// read (see writers_toc_test.go).
func FuzzTOCJSON(f *testing.F) {
	for _, c := range tocCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsDecoder(t, data)
	})
}

func TestScannerRefusesHugeValues(t *testing.T) {
	huge := `{"version":1,"entries":[{"name":"` + strings.Repeat("x", maxTOCValue) + `"}]}`
	_, _, err := decodeWithScanner(strings.NewReader(huge), 1024)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("got %v, want ErrLimit", err)
	}
	// Just under the bound is read.
	fine := `{"version":1,"entries":[{"name":"` + strings.Repeat("x", maxTOCValue-100) + `"}]}`
	if _, entries, err := decodeWithScanner(strings.NewReader(fine), 1024); err != nil || len(entries) != 1 {
		t.Fatalf("got %d entries, %v", len(entries), err)
	}
}

// syntheticTOC is a TOC of n files in directories of 100, as blobber writes
// it.
func syntheticTOC(n int) []byte {
	toc := estargz.JTOC{Version: 1}
	for i := range n {
		if i%100 == 0 {
			toc.Entries = append(toc.Entries, &estargz.TOCEntry{Name: fmt.Sprintf("dir-%03d/", i/100), Type: "dir", ModTime3339: "1970-01-01T00:00:00Z", Mode: 0o755})
		}
		d := "sha256:" + strings.Repeat(fmt.Sprintf("%02x", i%256), 32)
		toc.Entries = append(toc.Entries, &estargz.TOCEntry{
			Name: fmt.Sprintf("dir-%03d/file-%05d.txt", i/100, i), Type: "reg", Size: int64(1024 + i%7000),
			ModTime3339: "1970-01-01T00:00:00Z", Mode: 0o644, Offset: int64(130 + 2000*i), Digest: d, ChunkDigest: d,
		})
	}
	b, _ := json.MarshalIndent(&toc, "", "\t")
	return b
}

func TestScannerReadsALargeTOC(t *testing.T) {
	sameAsDecoder(t, syntheticTOC(2000))
}

func BenchmarkTOCJSON(b *testing.B) {
	data := syntheticTOC(10000)
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, _, err := decodeWithScanner(bytes.NewReader(data), 256<<10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, _, err := decodeWithEncodingJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// gzipTOC frames tocJSON as the TOC member of a gzip eStargz blob.
func gzipTOC(t *testing.T, tocJSON []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: estargz.TOCTarName, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(tocJSON))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(tocJSON); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadTOCErrors(t *testing.T) {
	good := []byte(`{"version":1,"entries":[{"name":"a","type":"dir"}]}`)
	bad := []byte(`{"version":1,"entries":[{"name":"a","type":"dir"},]}`)
	refused := errors.New("refused by the caller")
	keep := func(*estargz.TOCEntry) error { return nil }
	for _, c := range []struct {
		name     string
		json     []byte
		digestOf []byte
		max      int64
		each     func(*estargz.TOCEntry) error
		want     error
	}{
		{"good", good, good, 1 << 20, keep, nil},
		{"malformed", bad, bad, 1 << 20, keep, ErrNotEStargz},
		{"malformed and not the digest", bad, good, 1 << 20, keep, ErrDigestMismatch},
		{"well-formed and not the digest", good, bad, 1 << 20, keep, ErrDigestMismatch},
		{"refused by the callback", good, good, 1 << 20, func(*estargz.TOCEntry) error { return refused }, refused},
		{"refused and not the digest", good, bad, 1 << 20, func(*estargz.TOCEntry) error { return refused }, ErrDigestMismatch},
		{"over the size limit", good, good, int64(len(good)) - 1, keep, ErrLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := readTOC(compression.Gzip, gzipTOC(t, c.json), digest.FromBytes(c.digestOf), Limits{MaxTOCBytes: c.max}, c.each)
			if c.want == nil {
				if err != nil || v != 1 {
					t.Fatalf("got version %d, %v", v, err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if c.want == refused && errors.Is(err, ErrNotEStargz) {
				t.Fatalf("the callback's error %v was reported as malformed JSON", err)
			}
		})
	}
}

// A reader that fails after the whole JSON, as a truncated gzip stream
// does (io.ErrUnexpectedEOF), fails the scan: only io.EOF ends the input.
func TestScannerFailsOnATruncatedStream(t *testing.T) {
	valid := `{"version":1,"entries":[{"name":"a","type":"dir"}]}`
	for _, window := range []int{1, 256 << 10} {
		r := io.MultiReader(strings.NewReader(valid), iotest.ErrReader(io.ErrUnexpectedEOF))
		if _, _, err := decodeWithScanner(r, window); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("window %d: got %v, want io.ErrUnexpectedEOF", window, err)
		}
	}
}

// A callback that panics is reported as an error, after the digest check.
func TestReadTOCRecoversAfterTheDigest(t *testing.T) {
	good := []byte(`{"version":1,"entries":[{"name":"a","type":"dir"}]}`)
	boom := func(*estargz.TOCEntry) error { panic("boom") }
	if _, err := readTOC(compression.Gzip, gzipTOC(t, good), digest.FromString("other"), Limits{MaxTOCBytes: 1 << 20}, boom); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("got %v, want ErrDigestMismatch", err)
	}
	if _, err := readTOC(compression.Gzip, gzipTOC(t, good), digest.FromBytes(good), Limits{MaxTOCBytes: 1 << 20}, boom); !errors.Is(err, ErrNotEStargz) {
		t.Fatalf("got %v, want ErrNotEStargz", err)
	}
}
