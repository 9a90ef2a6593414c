package cache

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRangesAgainstBitmap checks the set operations against a plain
// bitmap over random operations.
func TestRangesAgainstBitmap(t *testing.T) {
	const size = 200
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		var set ranges
		bits := make([]bool, size)
		for range 12 {
			a := r.Int64N(size)
			b := a + r.Int64N(size-a) + 1
			if r.IntN(3) == 0 {
				set = set.remove(span{a, b})
				for i := a; i < b; i++ {
					bits[i] = false
				}
			} else {
				set = set.add(span{a, b})
				for i := a; i < b; i++ {
					bits[i] = true
				}
			}
			if got, err := parseRanges(set.marshal(size), size); err != nil || !slices.Equal(got, set) {
				t.Fatalf("iter %d: %v does not round-trip: %v, %v", iter, set, got, err)
			}
			a = r.Int64N(size)
			b = a + r.Int64N(size-a) + 1
			covered := true
			var gaps, within []span
			for i := a; i < b; i++ {
				covered = covered && bits[i]
				list := &within
				if !bits[i] {
					list = &gaps
				}
				if n := len(*list); n > 0 && (*list)[n-1].end == i {
					(*list)[n-1].end++
				} else {
					*list = append(*list, span{i, i + 1})
				}
			}
			if set.covers(a, b) != covered {
				t.Fatalf("iter %d: %v covers [%d,%d) = %v", iter, set, a, b, !covered)
			}
			if g := set.gaps(a, b); !slices.Equal(g, gaps) {
				t.Fatalf("iter %d: %v gaps [%d,%d) = %v, want %v", iter, set, a, b, g, gaps)
			}
			if w := set.within(a, b); !slices.Equal(w, within) {
				t.Fatalf("iter %d: %v within [%d,%d) = %v, want %v", iter, set, a, b, w, within)
			}
		}
	}
}

func TestParseRangesStrict(t *testing.T) {
	for _, bad := range []string{
		"",
		"blobber-ranges 1 100",                           // no final newline
		"blobber-ranges 1 101\n0 10\n",                   // another size
		"blobber-ranges 2 100\n",                         // another version
		"blobber-ranges 1 100\n10 0\n",                   // empty or reversed span
		"blobber-ranges 1 100\n0 10\n10 20\n",            // adjacent: not merged
		"blobber-ranges 1 100\n20 30\n0 10\n",            // unsorted
		"blobber-ranges 1 100\n0 101\n",                  // past the end
		"blobber-ranges 1 100\n-1 10\n",                  // negative
		"blobber-ranges 1 100\n+1 10\n",                  // sign
		"blobber-ranges 1 100\n01 10\n",                  // leading zero
		"blobber-ranges 1 100\n0 10 \n",                  // trailing space
		"blobber-ranges 1 100\n0\n",                      // one number
		"blobber-ranges 1 100\n\n",                       // empty line
		"blobber-ranges 1 100\n0 99999999999999999999\n", // overflow
	} {
		if r, err := parseRanges([]byte(bad), 100); err == nil {
			t.Errorf("parseRanges(%q) = %v, want an error", bad, r)
		}
	}
	r, err := parseRanges([]byte("blobber-ranges 1 100\n0 10\n20 100\n"), 100)
	if err != nil || !slices.Equal(r, ranges{{0, 10}, {20, 100}}) {
		t.Errorf("parseRanges = %v, %v", r, err)
	}
}
