package cache

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// TestConcurrentGoroutines: 8 goroutines read random ranges of one blob,
// half through a shared Blob and half through their own, while storing
// and reading manifests and tags; every read must return the right bytes.
func TestConcurrentGoroutines(t *testing.T) {
	const size = 1 << 20
	f := newFixture(t, size)
	shared := f.blob(t)
	mdata := []byte(`{"n":1}`)
	md := digest.FromBytes(mdata)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			b := shared
			if g%2 == 1 {
				b = f.c.Blob(f.dgst, size, f.remote)
				defer b.Close()
			}
			for i := range 60 {
				off := r.Int64N(size)
				n := min(1+r.Int64N(48<<10), size-off)
				p := make([]byte, n)
				if m, err := b.ReadAt(p, off); err != nil || int64(m) != n || !bytes.Equal(p, f.data[off:off+n]) {
					errs <- fmt.Errorf("goroutine %d: ReadAt(%d, %d) = %d, %v (bytes equal: %v)", g, off, n, m, err, bytes.Equal(p, f.data[off:off+n]))
					return
				}
				if i%10 == 0 {
					if err := f.c.PutManifest(md, "application/json", mdata); err != nil {
						errs <- err
						return
					}
					if _, got, ok := f.c.Manifest(md); !ok || !bytes.Equal(got, mdata) {
						errs <- fmt.Errorf("goroutine %d: manifest miss", g)
						return
					}
					f.c.PutTag("k", md, "application/json", 7)
					if _, _, _, ok := f.c.Tag("k", -1); !ok {
						errs <- fmt.Errorf("goroutine %d: tag miss", g)
						return
					}
				}
				if i == 30 && g == 0 {
					b.Invalidate(off, n)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustRead(t, shared, f.data, 0, size)
	if !shared.Complete() {
		t.Fatal("not complete")
	}
}

// The helper processes below are this test binary run again, told what to
// do by environment variables.
const (
	helperEnv     = "BLOBBER_CACHE_TEST_HELPER"
	helperDirEnv  = "BLOBBER_CACHE_TEST_DIR"
	helperSeedEnv = "BLOBBER_CACHE_TEST_SEED"
	helperReady   = "HELPER-READY"

	procBlobSize = 1 << 20
	killOff      = 64 << 10
	killLen      = 512 << 10
)

func helper(t *testing.T, mode, dir string, seed int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDirEnv+"="+dir, helperSeedEnv+"="+strconv.Itoa(seed))
	return cmd
}

// TestHelperProcess is not a test: it is the body of helper processes.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("only run as a helper process")
	}
	seed, _ := strconv.Atoi(os.Getenv(helperSeedEnv))
	c, err := Open(os.Getenv(helperDirEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	data := testData(7, procBlobSize)
	d := digest.FromBytes(data)
	switch mode {
	case "fill":
		// Read the whole blob in random, overlapping pieces.
		b := c.Blob(d, procBlobSize, &fakeRemote{data: data})
		r := rand.New(rand.NewPCG(uint64(seed), 2))
		for range 80 {
			off := r.Int64N(procBlobSize)
			n := min(1+r.Int64N(32<<10), procBlobSize-off)
			p := make([]byte, n)
			if m, err := b.ReadAt(p, off); err != nil || int64(m) != n || !bytes.Equal(p, data[off:off+n]) {
				fmt.Fprintf(os.Stderr, "ReadAt(%d, %d) = %d, %v\n", off, n, m, err)
				os.Exit(1)
			}
		}
		p := make([]byte, procBlobSize)
		if _, err := b.ReadAt(p, 0); err != nil || !bytes.Equal(p, data) {
			fmt.Fprintf(os.Stderr, "whole read: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "killwrite", "killahead", "killfetch":
		first := &fakeRemote{data: data}
		b := c.Blob(d, procBlobSize, first)
		if _, err := b.ReadAt(make([]byte, killOff), 0); err != nil {
			os.Exit(1)
		}
		// Then a big range, from a remote that serves wrong bytes, so
		// that if any of them were ever served the parent would see.
		bad := bytes.Repeat([]byte{0xAA}, procBlobSize)
		if mode == "killahead" {
			// The same Blob, which has the data file open, writes the
			// range before it takes the lock to record it.
			first.data = bad
			c.hooks.afterDataWrite = func() {
				fmt.Println(helperReady)
				select {}
			}
			b.ReadAt(make([]byte, killLen), killOff)
			os.Exit(3)
		}
		var remote RangeReader = &fakeRemote{data: bad}
		if mode == "killwrite" {
			c.hooks.afterDataWrite = func() {
				fmt.Println(helperReady)
				select {}
			}
		} else {
			remote = blockingRemote{bad}
		}
		b = c.Blob(d, procBlobSize, remote)
		b.ReadAt(make([]byte, killLen), killOff)
		os.Exit(3) // not reached: the parent kills us first
	}
	os.Exit(2)
}

// blockingRemote hands over half of a read and then hangs, as a
// connection that stalls mid-body does.
type blockingRemote struct{ data []byte }

func (r blockingRemote) ReadAt(p []byte, off int64) (int, error) {
	copy(p[:len(p)/2], r.data[off:])
	fmt.Println(helperReady)
	select {}
}

func TestMultiProcessFill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for i := range 4 {
		cmd := helper(t, "fill", dir, i)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper %d: %v\n%s", i, err, outs[i])
		}
	}
	if t.Failed() {
		return
	}
	data := testData(7, procBlobSize)
	d := digest.FromBytes(data)
	c := openCache(t, dir)
	b := c.Blob(d, procBlobSize, nil)
	defer b.Close()
	if !b.Complete() {
		t.Fatal("blob not complete after four processes read all of it")
	}
	got, err := os.ReadFile(dir + "/" + blobsDir + "/" + d.Encoded())
	if err != nil || digest.FromBytes(got) != d {
		t.Fatalf("complete blob does not verify: %v", err)
	}
	info, _ := c.Info()
	if info.Blobs != 1 || info.PartialBlobs != 0 {
		t.Errorf("Info = %+v", info)
	}
}

// TestKilledWriter kills a process in the middle of storing a range (after
// writing the bytes, before recording them; or while fetching them) and
// checks that nothing of that range is served afterwards, that what was
// recorded before still is, and that the cache still works (the dead
// process's lock is gone).
func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, mode := range []string{"killwrite", "killahead", "killfetch"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cmd := helper(t, mode, dir, 0)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ready := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.Contains(sc.Text(), helperReady) {
						ready <- true
						return
					}
				}
				ready <- false
			}()
			select {
			case ok := <-ready:
				if !ok {
					cmd.Wait()
					t.Fatalf("helper exited early: %s", stderr.String())
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatal("helper never got to the write")
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			data := testData(7, procBlobSize)
			d := digest.FromBytes(data)
			if mode != "killfetch" {
				// The killed process did write wrong bytes into the data
				// file; they must not be recorded.
				raw, _ := os.ReadFile(dir + "/" + partialDir + "/" + d.Encoded() + ".data")
				if len(raw) < killOff+killLen || raw[killOff] != 0xAA {
					t.Fatalf("the helper did not write its range (data file of %d bytes)", len(raw))
				}
			}
			c := openCache(t, dir)
			remote := &fakeRemote{data: data}
			b := c.Blob(d, procBlobSize, remote)
			defer b.Close()
			mustRead(t, b, data, 0, killOff)
			wantCalls(t, remote)
			mustRead(t, b, data, killOff, killLen)
			wantCalls(t, remote, span{killOff, killOff + killLen})
			mustRead(t, b, data, 0, procBlobSize)
			if !b.Complete() {
				t.Fatal("blob did not complete after the kill")
			}
		})
	}
}

// A Blob about to write fetched bytes into its data file while another
// completes the entry: the data file becomes the verified blob (the same
// inode, renamed), and wrong bytes written into it then would corrupt it.
func TestWriteAheadNeverReachesThePromotedBlob(t *testing.T) {
	const size = 1 << 20
	f := newFixture(t, size)
	filler := f.blob(t)
	mustRead(t, filler, f.data, 0, 64<<10) // the data file now exists
	bad := &fakeRemote{data: bytes.Repeat([]byte{0xAA}, size)}
	late := f.c.Blob(f.dgst, size, bad)
	defer late.Close()
	if _, err := late.ReadAt(make([]byte, 4096), 0); err != nil { // a partial view
		t.Fatal(err)
	}
	f.c.hooks.beforeWriteAhead = func() {
		f.c.hooks.beforeWriteAhead = nil
		mustRead(t, filler, f.data, 0, size) // completes and promotes
	}
	late.ReadAt(make([]byte, 256<<10), 512<<10)
	if f.c.hooks.beforeWriteAhead != nil {
		t.Fatal("the late reader never wrote ahead")
	}
	if !filler.Complete() {
		t.Fatal("the entry did not complete")
	}
	got, err := os.ReadFile(f.path(blobsDir + "/" + f.hex()))
	if err != nil || digest.FromBytes(got) != f.dgst {
		t.Fatalf("the verified blob changed on disk after it was promoted: %v", err)
	}
}
