package interop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// skopeoCopy copies src to dst (docker:// references over plain HTTP)
// with Debian's skopeo (apt-get install skopeo; .ci/run installs it), or
// skips the test when it is not installed. Its signature policy and home
// are the test's own.
func skopeoCopy(t *testing.T, src, dst string, extra ...string) {
	t.Helper()
	if _, err := exec.LookPath("skopeo"); err != nil {
		t.Skipf("skopeo is not installed (apt-get install skopeo; .ci/run installs it): %v", err)
	}
	home := t.TempDir()
	policy := filepath.Join(home, "policy.json")
	testtree.Must(t, os.WriteFile(policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--policy", policy, "copy", "--src-tls-verify=false", "--dest-tls-verify=false"}, extra...)
	args = append(args, "docker://"+src, "docker://"+dst)
	cmd := exec.CommandContext(ctx, "skopeo", args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "REGISTRY_AUTH_FILE="+filepath.Join(home, "auth.json"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

// readBack lists and pulls ref with Blobber and compares the result with
// src (paths, types, modes, sizes, contents).
func readBack(t *testing.T, src, ref string, opts ...blobber.Option) {
	t.Helper()
	ctx := context.Background()
	c, err := blobber.NewClient(opts...)
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	testtree.EqualFS(t, os.DirFS(src), img)
	img.Close()
	out := filepath.Join(t.TempDir(), "out")
	if _, err := c.Pull(ctx, ref, out); err != nil {
		t.Fatal(err)
	}
	testtree.Equal(t, src, out)
}

// TestSkopeoCopiesABlobberArtifact: skopeo copies a Blobber artifact, and
// an index pushed for two platforms (--all), from one registry to another;
// Blobber lists and pulls the copies, which are the pushed tree, under the
// same digests.
func TestSkopeoCopiesABlobberArtifact(t *testing.T) {
	ctx := context.Background()
	from, to := registrytest.Start(t), registrytest.Start(t)
	src := runtimeTree(t)
	c, err := blobber.NewClient()
	testtree.Must(t, err)

	for _, tc := range []struct {
		name      string
		platforms []string
		skopeo    []string
	}{
		{"manifest", nil, nil},
		{"index", []string{"linux/amd64", "linux/arm64"}, []string{"--all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := from.Host() + "/interop/skopeo-" + tc.name + ":v1"
			copied := to.Host() + "/copied/skopeo-" + tc.name + ":v1"
			var opts []blobber.PushOption
			if tc.platforms != nil {
				opts = append(opts, blobber.WithPlatforms(tc.platforms...))
			}
			pushTree(t, src, ref, opts...)
			skopeoCopy(t, ref, copied, tc.skopeo...)
			pushed, err := c.Inspect(ctx, ref)
			testtree.Must(t, err)
			got, err := c.Inspect(ctx, copied)
			testtree.Must(t, err)
			if got.Manifest.Digest != pushed.Manifest.Digest || got.Index.Digest != pushed.Index.Digest || len(got.Platforms) != len(tc.platforms) {
				t.Errorf("the copy is manifest %s, index %s (%v); pushed manifest %s, index %s", got.Manifest.Digest, got.Index.Digest, got.Platforms, pushed.Manifest.Digest, pushed.Index.Digest)
			}
			readBack(t, src, copied)
			if tc.platforms != nil {
				readBack(t, src, copied, blobber.WithPlatform("linux/arm64"))
			}
		})
	}
}
