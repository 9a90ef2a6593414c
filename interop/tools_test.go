package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// toolBinary builds the command pkg at version with go install, once per
// cache directory ($BLOBBER_INTEROP_BIN, else the user cache), and returns
// its path; $env names a prebuilt binary instead. A tool that does not
// build here skips the test.
func toolBinary(t *testing.T, env, name, pkg, version string) string {
	t.Helper()
	if path := os.Getenv(env); path != "" {
		return path
	}
	dir := os.Getenv("BLOBBER_INTEROP_BIN")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "blobber-interop", name+"-"+version)
	}
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", pkg+"@"+version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-buildvcs=false")
	cmd.Dir = t.TempDir() // outside this module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("%s %s does not build here (%v): %s", name, version, err, out)
	}
	return bin
}
