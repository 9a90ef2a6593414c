package cache

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// span is the half-open byte interval [start, end).
type span struct{ start, end int64 }

// ranges is a set of bytes kept as sorted, disjoint, non-adjacent spans,
// so that equal sets have one representation and the index stays small.
type ranges []span

// covers reports whether every byte of [a, b) is in r.
func (r ranges) covers(a, b int64) bool {
	if a >= b {
		return true
	}
	for _, s := range r {
		if s.start <= a && b <= s.end {
			return true
		}
		if s.start > a {
			break
		}
	}
	return false
}

// gaps returns the parts of [a, b) that are not in r, in order.
func (r ranges) gaps(a, b int64) []span {
	var out []span
	pos := a
	for _, s := range r {
		if s.end <= pos {
			continue
		}
		if s.start >= b {
			break
		}
		if s.start > pos {
			out = append(out, span{pos, s.start})
		}
		pos = max(pos, s.end)
		if pos >= b {
			break
		}
	}
	if pos < b {
		out = append(out, span{pos, b})
	}
	return out
}

// within returns the parts of [a, b) that are in r, in order.
func (r ranges) within(a, b int64) []span {
	var out []span
	for _, s := range r {
		lo, hi := max(s.start, a), min(s.end, b)
		if lo < hi {
			out = append(out, span{lo, hi})
		}
	}
	return out
}

// add returns r ∪ s as a new set; r is not modified, because views that
// readers hold share it.
func (r ranges) add(s span) ranges {
	if s.start >= s.end {
		return r
	}
	out := make(ranges, 0, len(r)+1)
	i := 0
	for ; i < len(r) && r[i].end < s.start; i++ {
		out = append(out, r[i])
	}
	for ; i < len(r) && r[i].start <= s.end; i++ {
		s.start = min(s.start, r[i].start)
		s.end = max(s.end, r[i].end)
	}
	out = append(out, s)
	return append(out, r[i:]...)
}

// remove returns r minus s as a new set.
func (r ranges) remove(s span) ranges {
	out := make(ranges, 0, len(r)+1)
	for _, x := range r {
		if x.end <= s.start || x.start >= s.end {
			out = append(out, x)
			continue
		}
		if x.start < s.start {
			out = append(out, span{x.start, s.start})
		}
		if x.end > s.end {
			out = append(out, span{s.end, x.end})
		}
	}
	return out
}

// end is the first byte past the last recorded one: the least size the
// data file must have for the index to be believable.
func (r ranges) end() int64 {
	if len(r) == 0 {
		return 0
	}
	return r[len(r)-1].end
}

func (r ranges) bytes() int64 {
	var n int64
	for _, s := range r {
		n += s.end - s.start
	}
	return n
}

// The index is text so it can be read when debugging a cache by hand:
//
//	blobber-ranges 1 <size>
//	<start> <end>
//	...
const rangesMagic = "blobber-ranges 1"

func (r ranges) marshal(size int64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d\n", rangesMagic, size)
	for _, s := range r {
		fmt.Fprintf(&b, "%d %d\n", s.start, s.end)
	}
	return b.Bytes()
}

var errMalformedIndex = fmt.Errorf("%w: malformed ranges index", errCorrupt)

// parseRanges accepts only what marshal writes for a blob of size bytes:
// anything else (another size, unsorted or overlapping spans, stray
// bytes) means the index cannot be trusted, and the entry is dropped.
func parseRanges(data []byte, size int64) (ranges, error) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, errMalformedIndex
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 128), 128)
	if !sc.Scan() || sc.Text() != fmt.Sprintf("%s %d", rangesMagic, size) {
		return nil, errMalformedIndex
	}
	var r ranges
	for sc.Scan() {
		a, b, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			return nil, errMalformedIndex
		}
		start, err1 := parseOffset(a)
		end, err2 := parseOffset(b)
		if err1 != nil || err2 != nil || start >= end || end > size {
			return nil, errMalformedIndex
		}
		if len(r) > 0 && start <= r[len(r)-1].end {
			return nil, errMalformedIndex
		}
		r = append(r, span{start, end})
	}
	if sc.Err() != nil {
		return nil, errMalformedIndex
	}
	return r, nil
}

// parseOffset is strconv.ParseInt without signs or leading zeros, so each
// set has exactly one spelling.
func parseOffset(s string) (int64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' || (len(s) > 1 && s[0] == '0') {
		return 0, errMalformedIndex
	}
	return strconv.ParseInt(s, 10, 64)
}
