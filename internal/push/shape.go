package push

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/toc"
)

// A tree's shape is what its regular files are called and how big they
// are, nothing else: two checkouts of the same files have the same shape
// whatever their times and inodes. The cache remembers the shapes of the
// layers it has seen, pushed or opened for reading, and a push whose tree
// has one of them does not upload while it builds (UploadWhileBuilding):
// the registry, or another of its repositories, probably holds the layer
// already, which a HEAD or a mount finds once its digest is known.
//
// The shape is order-free, the XOR of one SHA-256 per file, because a
// directory walk and a table of contents list files in different orders,
// and sorting the names of a large tree would cost memory. It is a hint:
// two trees with the same shape but other contents only lose the overlap.
type shape struct {
	sum   [sha256.Size]byte
	files int
	line  []byte // reused: every Open of a tree of many files adds each
}

// add counts a file; its line is what fmt's "%q %d" gives, built without
// fmt's allocations.
func (s *shape) add(name string, size int64) {
	s.line = strconv.AppendQuote(s.line[:0], name)
	s.line = append(s.line, ' ')
	s.line = strconv.AppendInt(s.line, size, 10)
	h := sha256.Sum256(s.line)
	for i := range s.sum {
		s.sum[i] ^= h[i]
	}
	s.files++
}

// key is the cache's key for this shape.
func (s *shape) key() string {
	return hex.EncodeToString(s.sum[:]) + fmt.Sprintf("-%d", s.files)
}

// IndexShape is the shape of the tree an index describes.
func IndexShape(ix *toc.Index) string {
	var s shape
	ix.Walk(func(e *toc.Entry) error {
		if e.Type == toc.TypeReg {
			s.add(e.Name, e.Size)
		}
		return nil
	})
	return s.key()
}

// RememberShape records that the layer of the manifest desc has this
// shape, unless the cache knows the shape already (every Open calls it,
// and a lookup, which refreshes the record's age, costs less than
// replacing the record's file).
func (p *Policy) RememberShape(key string, desc ocispec.Descriptor) {
	if p.Cache != nil && key != "" && !p.shapeSeen(key) {
		_ = p.Cache.PutShape(key, desc.Digest, desc.MediaType, desc.Size)
	}
}

// shapeSeen reports whether the cache has seen a layer of this shape.
func (p *Policy) shapeSeen(key string) bool {
	if p.Cache == nil || key == "" {
		return false
	}
	return p.Cache.HasShape(key)
}
