package fetch

import (
	"context"
	"io"
	"sync"
)

// A registry pays for every request it serves (it finds and opens the
// blob, and fills a buffer of its own, before the first byte), and over a
// real network each one costs a round trip, often a redirect too. A caller
// that reads a long stretch of a blob in order, one read after another (a
// pull reads each layer so, a segment at a time), says so with ReadAhead:
// a read inside that stretch then asks for the rest of it in one request,
// reads only what it was asked for, and leaves the response open for the
// read that starts where it ended. The bytes not read yet wait in the
// connection, so the process holds no more memory than before, and each
// read's bytes are still checked by its caller as they were.

// maxPlans and maxParked bound what a blob remembers of its readers:
// stretches announced, and responses left open between reads. Beyond
// them, the oldest is forgotten (its response closed), which costs a
// request, not a byte.
const (
	maxPlans  = 8
	maxParked = 8
)

// span is the bytes [start, end) of a blob.
type span struct{ start, end int64 }

// stream is an open response whose next byte is at next, and last byte
// before end.
type stream struct {
	body      io.ReadCloser
	next, end int64
}

// ahead is what a Blob remembers between reads: the stretches callers
// announced and the responses that have bytes left.
type ahead struct {
	mu     sync.Mutex
	plans  []span
	parked []stream
	closed bool
}

// ReadAhead tells b that its caller will read the bytes [off, off+n) in
// order, each read starting where the one before ended, one at a time.
func (b *Blob) ReadAhead(off, n int64) {
	off, end := max(off, 0), min(off+n, b.size)
	if end <= off {
		return
	}
	a := &b.ahead
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.plans) == maxPlans {
		a.plans = a.plans[1:]
	}
	a.plans = append(a.plans, span{off, end})
}

// reach is how far a request for [off, off+n) should ask: to the end of
// the announced stretch that holds off, if one does.
func (a *ahead) reach(off, n int64) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	end := off + n
	for _, p := range a.plans {
		if p.start <= off && off < p.end {
			end = max(end, p.end)
		}
	}
	return end
}

// take returns the open response whose next byte is off, if there is one.
func (a *ahead) take(off int64) (stream, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, s := range a.parked {
		if s.next == off {
			a.parked = append(a.parked[:i], a.parked[i+1:]...)
			return s, true
		}
	}
	return stream{}, false
}

// park keeps s open for the read that starts at s.next, or closes it when
// it has nothing left, another response already waits there, or the blob
// is closed.
func (a *ahead) park(s stream) {
	a.mu.Lock()
	defer a.mu.Unlock()
	dup := false
	for _, p := range a.parked {
		dup = dup || p.next == s.next
	}
	if s.next >= s.end || dup || a.closed {
		s.body.Close()
		return
	}
	if len(a.parked) == maxParked {
		a.parked[0].body.Close()
		a.parked = a.parked[1:]
	}
	a.parked = append(a.parked, s)
}

// close closes every open response; later ones are closed as they come.
func (a *ahead) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for _, s := range a.parked {
		s.body.Close()
	}
	a.parked = nil
}

// stream returns a response whose next byte is off and that holds at least
// n bytes: one left open by an earlier read, or a new request, which asks
// for the rest of an announced stretch. reused tells which.
func (b *Blob) stream(ctx context.Context, off, n int64) (s stream, reused bool, err error) {
	if s, ok := b.ahead.take(off); ok {
		if s.end >= off+n {
			return s, true, nil
		}
		s.body.Close()
	}
	end := b.ahead.reach(off, n)
	body, err := b.open(ctx, off, end-off)
	return stream{body: body, next: off, end: end}, false, err
}
