package pull

import "testing"

// keptBytes is what the two pools keep.
func keptBytes(pools ...*bufferPool) int64 {
	var n int64
	for _, p := range pools {
		p.mu.Lock()
		for _, b := range p.free {
			n += int64(cap(b))
		}
		p.mu.Unlock()
	}
	return n
}

// A pull that meets chunks of many sizes keeps, with the buffers in use,
// no more than its limit, as a tree of mixed files gives: four segments of
// small files at once, then two of large chunks, and so on.
func TestBufferPoolsKeepWithinTheirLimit(t *testing.T) {
	const limit = 20 << 20
	segments, chunks := newBufferPools(4, sizing{budget: limit, segment: segmentTarget})
	for round := range 10 {
		inFlight, decodedSize := 4, 512<<10
		if round%2 == 1 {
			inFlight, decodedSize = 2, 4608<<10
		}
		var inUse, decoded [][]byte
		for range inFlight {
			inUse = append(inUse, segments.get(4<<20))
			decoded = append(decoded, chunks.getSized(decodedSize))
		}
		var held int64
		for i := range inUse {
			held += int64(cap(inUse[i]) + cap(decoded[i]))
		}
		if got := keptBytes(segments, chunks) + held; got > limit {
			t.Fatalf("round %d: %d bytes in use and kept, over the limit of %d", round, got, limit)
		}
		for i := range inUse {
			chunks.put(decoded[i])
			segments.put(inUse[i])
		}
	}
	// The count matches what is kept once everything is given back.
	if got, want := chunks.bytes.live, keptBytes(segments, chunks); got != want {
		t.Errorf("pools count %d bytes, keep %d", got, want)
	}
}

// Buffers are reused while they fit: a steady pull of one size of chunk
// makes no new buffer after its first segments.
func TestBufferPoolsReuseWithinTheirLimit(t *testing.T) {
	segments, chunks := newBufferPools(4, sizing{budget: 20 << 20, segment: segmentTarget})
	first := [2][]byte{segments.get(4 << 20), chunks.getSized(4608 << 10)}
	second := [2][]byte{segments.get(4 << 20), chunks.getSized(4608 << 10)}
	made := chunks.bytes.live
	for _, b := range [][2][]byte{first, second} {
		chunks.put(b[1])
		segments.put(b[0])
	}
	for range 10 {
		a, b := segments.get(4<<20), chunks.getSized(4608<<10)
		c, d := segments.get(4<<20), chunks.getSized(4608<<10)
		chunks.put(b)
		segments.put(a)
		chunks.put(d)
		segments.put(c)
	}
	if got := chunks.bytes.live; got != made {
		t.Errorf("pools made %d bytes of buffers, want the first %d reused", got, made)
	}
}
