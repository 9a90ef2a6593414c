package cache

import (
	"os"
	"testing"
)

// Each case damages an entry the way a crash, a full disk or a meddling
// user might, then checks that a fresh reader (as in another process)
// drops it, fetches from the remote, and gets the right bytes.
func TestCorruptEntriesDropped(t *testing.T) {
	const size = 20000
	cases := []struct {
		name     string
		complete bool // damage a complete entry instead of a partial one
		damage   func(t *testing.T, f *fixture)
	}{
		{"truncated data", false, func(t *testing.T, f *fixture) {
			if err := os.Truncate(f.path(partialDir+"/"+f.hex()+".data"), 1500); err != nil {
				t.Fatal(err)
			}
		}},
		{"malformed index", false, func(t *testing.T, f *fixture) {
			os.WriteFile(f.path(partialDir+"/"+f.hex()+".ranges"), []byte("blobber-ranges 1 20000\n0 2000\n1000 3000\n"), 0o600)
		}},
		{"index for another size", false, func(t *testing.T, f *fixture) {
			os.WriteFile(f.path(partialDir+"/"+f.hex()+".ranges"), []byte("blobber-ranges 1 99999\n0 2000\n"), 0o600)
		}},
		{"garbage index", false, func(t *testing.T, f *fixture) {
			os.WriteFile(f.path(partialDir+"/"+f.hex()+".ranges"), []byte("\x00\x01garbage"), 0o600)
		}},
		{"symlinked data", false, func(t *testing.T, f *fixture) {
			p := f.path(partialDir + "/" + f.hex() + ".data")
			os.WriteFile(f.path("elsewhere"), f.data, 0o600) // even the right bytes
			os.Remove(p)
			os.Symlink("../../elsewhere", p)
		}},
		{"symlinked index", false, func(t *testing.T, f *fixture) {
			p := f.path(partialDir + "/" + f.hex() + ".ranges")
			os.Rename(p, f.path("elsewhere"))
			os.Symlink(f.path("elsewhere"), p)
		}},
		{"directory as data", false, func(t *testing.T, f *fixture) {
			p := f.path(partialDir + "/" + f.hex() + ".data")
			os.Remove(p)
			os.Mkdir(p, 0o700)
		}},
		{"index without data", false, func(t *testing.T, f *fixture) {
			os.Remove(f.path(partialDir + "/" + f.hex() + ".data"))
		}},
		{"truncated complete", true, func(t *testing.T, f *fixture) {
			os.Truncate(f.path(blobsDir+"/"+f.hex()), size-1)
		}},
		{"symlinked complete", true, func(t *testing.T, f *fixture) {
			p := f.path(blobsDir + "/" + f.hex())
			os.Rename(p, f.path("elsewhere"))
			os.Symlink("../../elsewhere", p)
		}},
		{"directory as complete", true, func(t *testing.T, f *fixture) {
			p := f.path(blobsDir + "/" + f.hex())
			os.Remove(p)
			os.MkdirAll(p+"/sub", 0o700)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, size)
			if tc.complete {
				mustRead(t, f.blob(t), f.data, 0, size)
			} else {
				mustRead(t, f.blob(t), f.data, 0, 2000)
			}
			tc.damage(t, f)
			f.remote.takeCalls()

			b := f.blob(t)
			mustRead(t, b, f.data, 0, 2000)
			if got := f.remote.bytesFetched(); got != 2000 {
				t.Fatalf("fetched %d bytes after damage, want 2000 (%v)", got, f.remote.takeCalls())
			}
			f.remote.takeCalls()
			// The cache works again: the range is now served locally,
			// and the blob can still complete.
			mustRead(t, f.blob(t), f.data, 0, 2000)
			wantCalls(t, f.remote)
			mustRead(t, b, f.data, 0, size)
			if !b.Complete() {
				t.Fatal("blob did not complete after the damage")
			}
			if fi, err := os.Lstat(f.path(blobsDir + "/" + f.hex())); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("complete entry: %v", err)
			}
		})
	}
}

// A data file truncated under a reader that has it open: the short read
// is detected, the entry dropped, and the bytes fetched again.
func TestTruncatedUnderReader(t *testing.T) {
	f := newFixture(t, 10000)
	b := f.blob(t)
	mustRead(t, b, f.data, 0, 5000)
	os.Truncate(f.path(partialDir+"/"+f.hex()+".data"), 100)
	f.remote.takeCalls()
	mustRead(t, b, f.data, 0, 5000)
	if got := f.remote.bytesFetched(); got != 5000 {
		t.Fatalf("fetched %d bytes, want 5000", got)
	}
}

func TestSymlinkedLockFile(t *testing.T) {
	f := newFixture(t, 1000)
	os.WriteFile(f.path("target"), nil, 0o600)
	os.Symlink("../target", f.path(lockName(f.hex())))
	mustRead(t, f.blob(t), f.data, 0, 1000)
	if fi, err := os.Lstat(f.path(lockName(f.hex()))); err == nil && !fi.Mode().IsRegular() {
		t.Error("lock file is still a symlink")
	}
}
