package blobber_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync/atomic"
	"testing"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// pushAccessCountingFS counts every access to a tree: Open (files, and directories a
// walk lists), Stat, ReadLink and Lstat. It has no ReadDir, so a walk
// opens directories.
type pushAccessCountingFS struct {
	fsys    fs.FS
	touches atomic.Int64
}

func (f *pushAccessCountingFS) Open(name string) (fs.File, error) {
	f.touches.Add(1)
	return f.fsys.Open(name)
}

func (f *pushAccessCountingFS) Stat(name string) (fs.FileInfo, error) {
	f.touches.Add(1)
	return fs.Stat(f.fsys, name)
}

func (f *pushAccessCountingFS) ReadLink(name string) (string, error) {
	f.touches.Add(1)
	return fs.ReadLink(f.fsys, name)
}

func (f *pushAccessCountingFS) Lstat(name string) (fs.FileInfo, error) {
	f.touches.Add(1)
	return fs.Lstat(f.fsys, name)
}

// A push that may not push fails before it reads anything of the tree:
// without credentials, with credentials the registry refuses, and with
// credentials that may only pull.
func TestPushChecksAccessBeforeReadingTheTree(t *testing.T) {
	token := registrytest.Start(t, registrytest.WithTokenAuth(registrytest.TokenAuth{
		Users:   map[string]string{"alice": alicePassword},
		Readers: map[string]string{"bob": "bob-pw"},
	}))
	basic := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": alicePassword}))
	src := newTree(t)
	ctx := context.Background()

	// The token registry's repository exists, so that bob can read it.
	_, err := newClient(t, blobber.WithCredentials(auth.StaticCredential(token.Host(), alice))).
		Push(ctx, token.Host()+"/access/files:v1", os.DirFS(src))
	testtree.Must(t, err)

	cases := []struct {
		name string
		host string
		cred auth.Credential
	}{
		{"token, no credentials", token.Host(), auth.EmptyCredential},
		{"token, wrong password", token.Host(), auth.Credential{Username: "alice", Password: "wrong"}},
		{"token, pull only", token.Host(), auth.Credential{Username: "bob", Password: "bob-pw"}},
		{"basic, no credentials", basic.Host(), auth.EmptyCredential},
		{"basic, wrong password", basic.Host(), auth.Credential{Username: "alice", Password: "wrong"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := &pushAccessCountingFS{fsys: os.DirFS(src)}
			c := newClient(t, blobber.WithCredentials(auth.StaticCredential(tc.host, tc.cred)), blobber.WithCache(t.TempDir()))
			_, err := c.Push(ctx, tc.host+"/access/files:v2", tree)
			if !errors.Is(err, blobber.ErrUnauthorized) {
				t.Fatalf("push: %v, want ErrUnauthorized", err)
			}
			if n := tree.touches.Load(); n != 0 {
				t.Errorf("the tree was read %d times before the push failed: %v", n, err)
			}
		})
	}

	// With the right to push, the same tree goes up.
	tree := &pushAccessCountingFS{fsys: os.DirFS(src)}
	c := newClient(t, blobber.WithCredentials(auth.StaticCredential(token.Host(), alice)))
	_, err = c.Push(ctx, token.Host()+"/access/files:v2", tree)
	testtree.Must(t, err)
	if tree.touches.Load() == 0 {
		t.Error("the push read nothing: the counting is broken")
	}
}
