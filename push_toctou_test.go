package blobber_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// symlinkSwappingFS swaps the file victim for a symlink to target when the build
// opens it: after the walk listed it as a regular file, before its bytes
// are read, as a local attacker racing the push would (with
// renameat2(RENAME_EXCHANGE), say).
type symlinkSwappingFS struct {
	fs.FS
	dir, victim, target string
	once                sync.Once
	err                 error
}

func (s *symlinkSwappingFS) Open(name string) (fs.File, error) {
	if name == s.victim {
		s.once.Do(func() {
			p := filepath.Join(s.dir, filepath.FromSlash(name))
			tmp := p + ".swap"
			if s.err = os.Symlink(s.target, tmp); s.err == nil {
				s.err = os.Rename(tmp, p)
			}
		})
		if s.err != nil {
			return nil, s.err
		}
	}
	return s.FS.Open(name)
}

func (s *symlinkSwappingFS) ReadLink(name string) (string, error) { return fs.ReadLink(s.FS, name) }

// A file swapped for a symlink between the walk and its open is not
// published: the push fails naming it, and the tag is not created. The
// secret has the size of the file it replaces, so that only the file's
// identity (device and inode) tells them apart.
func TestPushRefusesAFileSwappedDuringThePush(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	secret := filepath.Join(t.TempDir(), "secret")
	testtree.Must(t, os.WriteFile(secret, []byte("TOP SECRET\n"), 0o600))

	for _, tc := range []struct {
		name, target string
		root         bool // the tree is read through os.Root, as the CLI reads it
	}{
		{"absolute link", secret, false},
		{"link inside the tree", "other.txt", false},
		{"absolute link through os.Root", secret, true},
		{"link inside the tree through os.Root", "other.txt", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testtree.Must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("public aa.\n"), 0o644))
			testtree.Must(t, os.WriteFile(filepath.Join(dir, "other.txt"), []byte("public oo.\n"), 0o644))
			tree := &symlinkSwappingFS{FS: os.DirFS(dir), dir: dir, victim: "a.txt", target: tc.target}
			if tc.root {
				root, err := os.OpenRoot(dir)
				testtree.Must(t, err)
				defer root.Close()
				tree.FS = root.FS()
			}
			repo := reg.Host() + "/toctou/" + strings.ToLower(strings.NewReplacer(" ", "-", ".", "-").Replace(tc.name))
			_, err := newClient(t).Push(ctx, repo+":v1", tree)
			if err == nil {
				t.Fatal("the push published a file swapped for a symlink")
			}
			if tree.err != nil {
				t.Fatalf("swapping: %v", tree.err)
			}
			// Through os.Root, the link out of the tree is not even opened.
			if !strings.Contains(err.Error(), "a.txt") || !tc.root && !strings.Contains(err.Error(), "changed while the push read it") {
				t.Errorf("push: %v; want an error naming a.txt as changed", err)
			}
			_, err = newClient(t).Open(ctx, repo+":v1")
			if !errors.Is(err, blobber.ErrNotFound) {
				t.Errorf("open after the failed push: %v, want ErrNotFound (nothing tagged)", err)
			}
		})
	}
}
