package push

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// The fingerprint is rendered without fmt, but to the same bytes as the
// fmt formula it replaced, so that the cache's records of trees pushed
// before stay valid; and a Fingerprinter fed by a walk done for another
// reason gives what Fingerprint's own walk gives.
func TestFingerprintKeepsItsFormat(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"a.txt": "alpha", "sub/b \"q\".txt": "bravo", "sub/link": "-> b.txt", "sub/é/c": ""})
	testtree.Must(t, os.Chmod(dir+"/a.txt", 0o755))
	build := layer.Options{Level: "1", ChunkSize: 1 << 20, KeepModTimes: true}
	fp, shapeKey := fingerprintOrSkip(t, dir, build)

	h := sha256.New()
	var sh shape
	fmt.Fprintf(h, "%s %q %q %d %v\n", layerFormat, build.Compression, build.Compression.Effective(build.Level), build.ChunkSize, build.KeepModTimes)
	fsys := os.DirFS(dir)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		id, _ := fileIdentity(info)
		fmt.Fprintf(h, "%q %v %d %s\n", name, info.Mode(), info.Size(), id)
		if d.Type().IsRegular() {
			sh.add(name, info.Size())
		}
		return nil
	})
	testtree.Must(t, err)
	if want := hex.EncodeToString(h.Sum(nil)); fp != want || shapeKey != sh.key() {
		t.Errorf("Fingerprint = %s, %s; the fmt formula gives %s, %s", fp, shapeKey, want, sh.key())
	}

	f := NewFingerprinter(build)
	testtree.Must(t, layer.CheckVisiting(t.Context(), fsys, f.Visitor()))
	if got, gotShape := f.Sum(); got != fp || gotShape != shapeKey {
		t.Errorf("a Fingerprinter fed by the check's walk gave %s, %s; Fingerprint %s, %s", got, gotShape, fp, shapeKey)
	}
}
