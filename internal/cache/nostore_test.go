package cache

import (
	"bytes"
	"testing"
)

// A whole-blob read (DeferPromote) of a blob larger than the cache's bound
// serves every byte but keeps none of those it fetches; what the cache held
// before (a table of contents) is still served from it. Under the bound,
// the blob is kept and becomes a complete, verified entry.
func TestWholeReadOfBlobOverTheBoundIsNotKept(t *testing.T) {
	const size = 1 << 20
	for _, c := range []struct {
		bound int64
		kept  bool
	}{
		{bound: size / 2, kept: false},
		{bound: 4 * size, kept: true},
	} {
		f := newFixture(t, size)
		f.c.SetMaxSize(c.bound)
		b := f.blob(t)
		tail := make([]byte, 4096)
		if _, err := b.ReadAt(tail, size-4096); err != nil {
			t.Fatal(err)
		}
		whole := b.DeferPromote()
		got := make([]byte, size)
		if _, err := b.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		if whole != nil {
			whole.Write(got)
		}
		if !bytes.Equal(got, f.data) {
			t.Fatalf("bound %d: the bytes read are not the blob's", c.bound)
		}
		if err := b.PromoteVerified(); err != nil {
			t.Fatal(err)
		}
		if b.Complete() != c.kept {
			t.Errorf("bound %d: complete after a verified whole read = %v, want %v", c.bound, b.Complete(), c.kept)
		}

		again := f.c.Blob(f.dgst, size, f.remote)
		t.Cleanup(func() { again.Close() })
		f.remote.takeCalls()
		if _, err := again.ReadAt(tail, size-4096); err != nil {
			t.Fatal(err)
		}
		if n := f.remote.bytesFetched(); n != 0 {
			t.Errorf("bound %d: the bytes cached before the whole read fetched %d bytes again", c.bound, n)
		}
		if _, err := again.ReadAt(got[:4096], 0); err != nil {
			t.Fatal(err)
		}
		want := int64(4096)
		if c.kept {
			want = 0
		}
		if n := f.remote.bytesFetched(); n != want {
			t.Errorf("bound %d: bytes of the whole read fetched again: %d, want %d", c.bound, n, want)
		}
	}
}
