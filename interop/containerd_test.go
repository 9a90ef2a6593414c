package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// containerd is a containerd daemon of the test's own: its config, root,
// state and socket in a temporary directory, so that it shares nothing
// with a containerd the machine may run.
type containerd struct {
	dir  string
	sock string
}

// containerdConfig is the daemon's config: everything under dir, and no
// CRI plugin (no Kubernetes here).
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
`

// startContainerd starts Debian's containerd (apt-get install containerd;
// .ci/run installs it), or skips the test saying why it cannot run here:
// not Linux, not root, no binary, no overlay snapshotter.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("containerd mounts images on Linux only, not %s", runtime.GOOS)
	}
	for _, name := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Skipf("%s is not installed (apt-get install containerd; .ci/run installs it): %v", name, err)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root to mount images (overlay), and this test runs as uid", os.Geteuid())
	}
	// A short path: the socket's must fit in sun_path.
	dir, err := os.MkdirTemp("", "blobber-containerd-")
	testtree.Must(t, err)
	c := &containerd{dir: dir, sock: filepath.Join(dir, "containerd.sock")}
	config := filepath.Join(dir, "config.toml")
	testtree.Must(t, os.WriteFile(config, fmt.Appendf(nil, containerdConfig,
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.sock, c.sock+".ttrpc"), 0o600))
	logFile, err := os.Create(filepath.Join(dir, "containerd.log"))
	testtree.Must(t, err)
	daemon := exec.Command("containerd", "--config", config)
	daemon.Stdout, daemon.Stderr = logFile, logFile
	testtree.Must(t, daemon.Start())
	t.Cleanup(func() {
		_ = daemon.Process.Kill()
		_ = daemon.Wait()
		logFile.Close()
		// Snapshots a failed test left mounted would keep the directory.
		unmountUnder(dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("removing containerd's directory: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := c.ctr(t, "version"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("containerd did not answer on %s within 30s; its log:\n%s", c.sock, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	plugins, err := c.ctr(t, "plugins", "ls")
	testtree.Must(t, err)
	if !overlayReady(plugins) {
		t.Skipf("containerd's overlayfs snapshotter cannot run here (no overlay mounts?):\n%s", plugins)
	}
	return c
}

// overlayReady tells from `ctr plugins ls` whether the overlayfs
// snapshotter loaded.
func overlayReady(plugins string) bool {
	for _, line := range strings.Split(plugins, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == "io.containerd.snapshotter.v1" && f[1] == "overlayfs" {
			return f[len(f)-1] == "ok"
		}
	}
	return false
}

// unmountUnder unmounts whatever is mounted under dir, deepest first.
func unmountUnder(dir string) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	lines := strings.Split(string(mounts), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if f := strings.Fields(lines[i]); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			_ = exec.Command("umount", f[1]).Run()
		}
	}
}

// ctr runs ctr against this daemon and returns its combined output.
func (c *containerd) ctr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"--address", c.sock, "--namespace", "blobber-interop"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("ctr %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}

// mount pulls ref over plain HTTP and mounts it read-only for platform,
// returning the mount point (unmounted when the test ends). A kernel that
// refuses the overlay mount skips the test.
func (c *containerd) mount(t *testing.T, ref, platform string) string {
	t.Helper()
	if _, err := c.ctr(t, "image", "pull", "--plain-http", "--platform", platform, ref); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err := c.ctr(t, "image", "mount", "--platform", platform, ref, dir)
	if err != nil && (strings.Contains(err.Error(), "operation not permitted") || strings.Contains(err.Error(), "no such device")) {
		t.Skipf("the overlay mount is refused here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := c.ctr(t, "image", "unmount", dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

// TestContainerdMountsABlobberPush: containerd pulls a Blobber artifact
// from a registry over plain HTTP and `ctr image mount` shows exactly the
// pushed tree: paths, types, modes, sizes and contents.
func TestContainerdMountsABlobberPush(t *testing.T) {
	ctd := startContainerd(t)
	reg := registrytest.Start(t)
	src := runtimeTree(t)
	ref := reg.Host() + "/interop/containerd:v1"
	pushTree(t, src, ref)
	testtree.Equal(t, src, ctd.mount(t, ref, blobber.DefaultPlatform))
}

// TestContainerdMountsABlobberIndex: an index pushed for two platforms
// resolves on each; pulled and mounted for the one that is not the
// default, it shows the same tree.
func TestContainerdMountsABlobberIndex(t *testing.T) {
	ctd := startContainerd(t)
	reg := registrytest.Start(t)
	src := runtimeTree(t)
	ref := reg.Host() + "/interop/containerd-index:v1"
	pushTree(t, src, ref, blobber.WithPlatforms("linux/amd64", "linux/arm64"))
	testtree.Equal(t, src, ctd.mount(t, ref, "linux/arm64"))
	// A platform the index does not list is not silently given another.
	_, err := ctd.ctr(t, "image", "pull", "--plain-http", "--platform", "linux/s390x", ref)
	if err == nil || !strings.Contains(err.Error(), "no match for platform") {
		t.Errorf("ctr pull of linux/s390x from an index of linux/amd64 and linux/arm64: %v, want no match", err)
	}
}
