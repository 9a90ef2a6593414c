package pull

import "testing"

// The layers' segments are fetched in each layer's blob order, several
// layers at once but never more than width: each layer being read holds a
// response open at the registry.
func TestInterleaveReadsAtMostWidthLayersAtOnce(t *testing.T) {
	sizes := []int{3, 1, 2, 0, 4, 2}
	perLayer := make([][]segment, len(sizes))
	total := 0
	for l, n := range sizes {
		for i := range n {
			perLayer[l] = append(perLayer[l], segment{layer: l, start: int64(i), end: int64(i + 1)})
		}
		total += n
	}
	for _, width := range []int{1, 2, 4, 10} {
		got := interleave(perLayer, width)
		if len(got) != total {
			t.Fatalf("width %d: %d segments, want %d", width, len(got), total)
		}
		next := make([]int64, len(sizes))
		open, most := map[int]bool{}, 0
		for _, s := range got {
			if s.start != next[s.layer] {
				t.Fatalf("width %d: layer %d's segment %d after %d", width, s.layer, s.start, next[s.layer]-1)
			}
			next[s.layer]++
			open[s.layer] = next[s.layer] < int64(sizes[s.layer])
			n := 0
			for _, o := range open {
				if o {
					n++
				}
			}
			most = max(most, n)
		}
		if most > width || (width > 1 && most < 2) {
			t.Errorf("width %d: %d layers read at once, want 2 to %d", width, most, width)
		}
	}
}
