package cache

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// tempFiles lists the temporary files in the cache's partial directory.
func (f *fixture) tempFiles(t *testing.T) []string {
	t.Helper()
	des, err := os.ReadDir(f.path(partialDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			names = append(names, de.Name())
		}
	}
	return names
}

// A whole read (DeferPromote) keeps the copy its caller writes of the
// bytes it hashed: the reads store nothing they fetch (no lock, data file
// or index per read), and once the caller found the bytes verify, the
// copy is the complete entry, in place of the partial one the table of
// contents was cached in.
func TestWholeReadKeepsTheCallersCopy(t *testing.T) {
	const size, segment = 1 << 20, 256 << 10
	f := newFixture(t, size)
	b := f.blob(t)
	mustRead(t, b, f.data, size-4096, 4096) // the table of contents, cached as a partial entry
	whole := b.DeferPromote()
	if whole == nil {
		t.Fatal("DeferPromote of a blob the cache can keep returned no copy to write")
	}
	for off := int64(0); off < size; off += segment {
		mustRead(t, b, f.data, off, segment)
		if _, err := whole.Write(f.data[off : off+segment]); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.remote.bytesFetched(); got != size {
		t.Errorf("fetched %d bytes, want the blob once", got)
	}
	if exists(f.path(partialDir + "/" + f.hex() + ".ranges")) {
		if idx, _ := b.readIndex(); idx.bytes() != 4096 {
			t.Errorf("the reads recorded %d bytes in the partial entry, want only the 4096 cached before", idx.bytes())
		}
	}
	if err := b.PromoteVerified(); err != nil {
		t.Fatal(err)
	}
	if !b.Complete() {
		t.Fatal("the verified copy is not the complete entry")
	}
	if got, err := os.ReadFile(f.path(blobsDir + "/" + f.hex())); err != nil || !bytes.Equal(got, f.data) {
		t.Fatalf("the complete entry is not the blob: %v", err)
	}
	for _, leftover := range []string{".ranges", ".data"} {
		if exists(f.path(partialDir + "/" + f.hex() + leftover)) {
			t.Errorf("the partial entry's %s file is left beside the complete one", leftover)
		}
	}
	if tmp := f.tempFiles(t); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	again := f.c.Blob(f.dgst, size, f.remote)
	t.Cleanup(func() { again.Close() })
	f.remote.takeCalls()
	mustRead(t, again, f.data, 0, size)
	wantCalls(t, f.remote)
}

// A copy that does not hold every byte (the pull failed half-way, or
// wrote less) is never kept, and is removed when the blob is closed.
func TestWholeReadDropsAnIncompleteCopy(t *testing.T) {
	const size = 64 << 10
	f := newFixture(t, size)
	b := f.c.Blob(f.dgst, size, f.remote)
	whole := b.DeferPromote()
	mustRead(t, b, f.data, 0, size)
	whole.Write(f.data[:size/2])
	if err := b.PromoteVerified(); err != nil {
		t.Fatal(err)
	}
	if b.Complete() {
		t.Error("a copy of half the blob became the complete entry")
	}
	if tmp := f.tempFiles(t); len(tmp) > 0 {
		t.Errorf("temporary files left after PromoteVerified: %v", tmp)
	}

	whole = b.DeferPromote()
	whole.Write(f.data[:size/2])
	if len(f.tempFiles(t)) != 1 {
		t.Fatal("no copy being written")
	}
	b.Close()
	if tmp := f.tempFiles(t); len(tmp) > 0 {
		t.Errorf("temporary files left after Close: %v", tmp)
	}
	if _, err := whole.Write(f.data[size/2:]); err == nil {
		t.Error("a write to the copy of a closed blob succeeded")
	}
}
