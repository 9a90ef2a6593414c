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

// A group's fingerprint is rendered without fmt, but to the same bytes as
// the fmt formula it replaced (files and directories, with and without
// modification times kept), so that the cache's records of layers built
// before stay valid.
func TestLayerFingerprintKeepsItsFormat(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"a.txt": "alpha", "sub/b \"q\".txt": "bravo", "sub/link": "-> b.txt", "sub/é/c": "", "sub/\x01\t": "x"})
	testtree.Must(t, os.Chmod(dir+"/a.txt", 0o755))
	fsys := os.DirFS(dir)
	for _, keep := range []bool{false, true} {
		build := layer.Options{Level: "1", ChunkSize: 1 << 20, KeepModTimes: keep}
		f := NewLayerFingerprinter(build)
		h := sha256.New()
		fmt.Fprintf(h, "layer %s %q %q %d %v\n", layerFormat, build.Compression, build.Compression.Effective(build.Level), build.ChunkSize, build.KeepModTimes)
		err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || name == "." {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			f.Add(name, info)
			if info.IsDir() {
				fmt.Fprintf(h, "%q %v", name, info.Mode())
				if keep {
					fmt.Fprintf(h, " %d", info.ModTime().UnixNano())
				}
				h.Write([]byte{'\n'})
				return nil
			}
			id, ok := fileIdentity(info)
			if !ok {
				t.Skip("no file identity on this platform")
			}
			fmt.Fprintf(h, "%q %v %d %s\n", name, info.Mode(), info.Size(), id)
			return nil
		})
		testtree.Must(t, err)
		if got, want := f.Sum(), hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("KeepModTimes %v: LayerFingerprinter gave %s, the fmt formula %s", keep, got, want)
		}
	}
}
