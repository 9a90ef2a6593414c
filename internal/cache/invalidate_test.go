package cache

import "testing"

// Invalidating a range of a complete blob keeps the rest: only the range
// is fetched again, after which the blob, whole and verified, is complete
// once more.
func TestInvalidateCompleteKeepsTheRest(t *testing.T) {
	f := newFixture(t, 10000)
	b := f.blob(t)
	mustRead(t, b, f.data, 0, 10000)
	if !b.Complete() {
		t.Fatal("not complete")
	}
	must(t, b.Invalidate(4000, 500))
	if b.Complete() {
		t.Fatal("still complete after an invalidation")
	}
	f.remote.takeCalls()

	// A fresh reader, as in another process, sees the same.
	b2 := f.blob(t)
	mustRead(t, b2, f.data, 0, 4000)
	mustRead(t, b2, f.data, 4500, 5500)
	wantCalls(t, f.remote)
	mustRead(t, b2, f.data, 3000, 2000)
	wantCalls(t, f.remote, span{4000, 4500})
	if !b2.Complete() || !exists(f.path(blobsDir+"/"+f.hex())) {
		t.Fatal("the blob is not complete again once the range is back")
	}
	if exists(f.path(partialDir+"/"+f.hex()+".data")) || exists(f.path(partialDir+"/"+f.hex()+".ranges")) {
		t.Fatal("partial files left after the blob was complete again")
	}
}
