package toc

import (
	"bytes"
	"context"
	"encoding/json"
	"path"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// FuzzRead feeds arbitrary blobs to the footer and TOC reader: it must
// never panic, and it must never accept a TOC whose digest is not the one
// asked for.
func FuzzRead(f *testing.F) {
	blob, res := buildBlob(&testing.T{}, compression.Gzip, 3000)
	f.Add(blob, true)
	zblob, _ := buildBlob(&testing.T{}, compression.Zstd, 3000)
	f.Add(zblob, false)
	f.Add(blob[len(blob)-60:], true)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, data []byte, gzip bool) {
		c := compression.Zstd
		if gzip {
			c = compression.Gzip
		}
		ix, err := Read(context.Background(), bytes.NewReader(data), int64(len(data)), c, res.TOCDigest, Limits{MaxTOCBytes: 1 << 20})
		if err == nil && !bytes.Equal(data, blob) {
			// Only a blob whose TOC is byte-identical may pass.
			checkIndex(t, ix)
		}
	})
}

// FuzzTOC feeds arbitrary TOC JSON to the validator: no panic, and what it
// accepts is a well-formed tree.
func FuzzTOC(f *testing.F) {
	f.Add([]byte(`{"version":1,"entries":[{"name":"a","type":"reg","size":3,"offset":10,"chunkDigest":"sha256:` + hex64() + `"}]}`))
	f.Add([]byte(`{"version":1,"entries":[{"name":"../x","type":"reg"}]}`))
	f.Add([]byte(`{"version":1,"entries":[{"name":"l","type":"symlink","linkName":"/etc"},{"name":"l/f","type":"reg"}]}`))
	f.Add([]byte(`{"version":1,"entries":[{"name":"a","type":"reg","size":8,"chunkSize":4,"offset":1,"chunkDigest":"sha256:` + hex64() + `"},{"name":"a","type":"chunk","chunkOffset":4,"chunkSize":4,"offset":5,"chunkDigest":"sha256:` + hex64() + `"}]}`))
	f.Add([]byte(`{"version":1,"entries":[{"name":"h","type":"hardlink","linkName":"nope"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var jtoc estargz.JTOC
		if json.Unmarshal(raw, &jtoc) != nil {
			return
		}
		ix, err := newIndex(&jtoc, compression.Gzip, 1000, 900, Limits{MaxEntries: 1000, MaxBytes: 1 << 30}.orDefault())
		if err == nil {
			checkIndex(t, ix)
		}
	})
}

func hex64() string { return digest.FromString("x").Encoded() }

// checkIndex asserts the invariants every accepted index keeps.
func checkIndex(t *testing.T, ix *Index) {
	t.Helper()
	seen := 0
	err := ix.Walk(func(e *Entry) error {
		seen++
		name := e.Name
		if got, ok := ix.Lookup(name); !ok || got != e {
			t.Fatalf("Lookup(%q) does not find the entry Walk gave", name)
		}
		if name == "." || (name != "." && (path.Clean(name) != name || path.IsAbs(name) || name == ".." || len(name) >= 3 && name[:3] == "../")) {
			t.Fatalf("unclean name %q", name)
		}
		var covered int64
		for _, c := range e.Chunks() {
			if c.FileOffset != covered || c.Size <= 0 || c.Offset < 0 || c.End() > ix.PayloadEnd || c.Offset >= c.End() {
				t.Fatalf("%s: bad chunk %+v", name, c)
			}
			covered += c.Size
		}
		if e.Type == TypeReg && covered != e.Size {
			t.Fatalf("%s: chunks cover %d of %d", name, covered, e.Size)
		}
		if p, ok := ix.Lookup(path.Dir(name)); !ok || p.Type != TypeDir {
			t.Fatalf("%s: parent is not a directory", name)
		}
		return nil
	})
	if err != nil || seen != ix.Files {
		t.Fatalf("walked %d of %d entries: %v", seen, ix.Files, err)
	}
}
