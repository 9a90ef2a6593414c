package push

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// A shape is built without fmt, but to the same key as the fmt formula it
// replaced, so that the cache's shapes of layers seen before still match;
// and adding a file allocates nothing, since every Open adds each file.
func TestShapeKeepsItsKey(t *testing.T) {
	files := map[string]int64{"a.txt": 1, "dir/b c.bin": 1 << 40, "naïve\n\"q\".txt": 0, "\xff\xfe": 7, "d/e/f": -1}
	var want [sha256.Size]byte
	var s shape
	for name, size := range files {
		h := sha256.Sum256(fmt.Appendf(nil, "%q %d", name, size))
		for i := range want {
			want[i] ^= h[i]
		}
		s.add(name, size)
	}
	if got, w := s.key(), hex.EncodeToString(want[:])+fmt.Sprintf("-%d", len(files)); got != w {
		t.Fatalf("key %s, want %s", got, w)
	}
	if n := testing.AllocsPerRun(100, func() { s.add("some/dir/a-file-name.txt", 4096) }); n != 0 {
		t.Fatalf("adding a file allocated %v times", n)
	}
}
