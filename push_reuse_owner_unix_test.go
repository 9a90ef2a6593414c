//go:build unix

package blobber_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A layer record this user did not write (another user's, in a shared
// cache directory, or one open to others) is not trusted: every layer is
// built again, and the push publishes the right artifact.
func TestPushLayersReuseIgnoresForeignRecords(t *testing.T) {
	f := newReuseFixture(t)
	fps, err := blobber.LayerFingerprints(os.DirFS(f.src))
	testtree.Must(t, err)
	for i, fp := range fps {
		sum := sha256.Sum256([]byte(fp))
		name := filepath.Join(f.cacheDir, "trees", "layers", hex.EncodeToString(sum[:])+".json")
		if i%2 == 0 && os.Geteuid() == 0 {
			testtree.Must(t, os.Chown(name, 4242, 4242))
		} else {
			testtree.Must(t, os.Chmod(name, 0o644))
		}
	}
	desc, built, reused, _ := f.pushCounted(t, "v2")
	if built != int64(f.layers) || reused != 0 {
		t.Fatalf("built %d layers and reused %d; want %d and 0", built, reused, f.layers)
	}
	if desc.Digest != f.v1.Digest {
		t.Fatalf("pushed %s; the tree is %s", desc.Digest, f.v1.Digest)
	}
	f.check(t, "v2", desc)
}
