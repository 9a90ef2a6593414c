package toc

import (
	"fmt"
	"io"

	"github.com/containerd/stargz-snapshotter/estargz"
)

// The TOC JSON is read by a scanner of its own: encoding/json's Decoder
// was a large part of an `ls` of a tree of many files (BENCHMARKS.md,
// ls/cat of many files). The scanner decodes entries of the usual shape
// itself (the TOCEntry fields of strings without escapes and of integers)
// and hands any other value whole to encoding/json, so that what it
// returns, and whether it fails, is what encoding/json's Unmarshal into
// estargz's JTOC gives (but for a TOC that lists its entries twice, which
// it refuses): FuzzTOCJSON checks the two against each other.

// maxTOCValue bounds one entry (or another top-level value) of the TOC,
// which the scanner holds whole in memory.
const maxTOCValue = 16 << 20

var errTOCValueTooLarge = fmt.Errorf("%w: a TOC entry is larger than %d bytes", ErrLimit, maxTOCValue)

// tocScanner reads JSON from r through a window buf[pos:end].
type tocScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool  // r has no more bytes
	err      error // r failed, or a value outgrew maxTOCValue
	// last holds the most recent value of the string fields whose values
	// repeat from entry to entry (entryField.slot), so that each is
	// allocated once while it does.
	last [5]string
	// scratch is the entry fastEntry decodes into, reused from entry to
	// entry: callers of document keep none of it but its strings, and a
	// TOC of many files would otherwise allocate a large struct per entry.
	scratch estargz.TOCEntry
}

func newTOCScanner(r io.Reader) *tocScanner {
	return &tocScanner{r: r, buf: make([]byte, 256<<10)}
}

// fill reads more input, growing the window when it is full. It reports
// whether it added any bytes.
func (s *tocScanner) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= maxTOCValue {
			s.err = errTOCValueTooLarge
			return false
		}
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	// Not io.ReadFull: it reports a reader's own io.ErrUnexpectedEOF, a
	// truncated gzip stream's, as it does a short read.
	added := 0
	for s.end < len(s.buf) {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		added += n
		if err == io.EOF {
			s.eof = true
			break
		}
		if err != nil {
			s.err = err
			break
		}
	}
	return added > 0
}

// peek skips white space and returns the next byte, without consuming it.
func (s *tocScanner) peek() (byte, bool) {
	for {
		for s.pos < s.end {
			if c := s.buf[s.pos]; !isSpace(c) {
				return c, true
			}
			s.pos++
		}
		if !s.fill() {
			return 0, false
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// syntaxErr describes where the JSON went wrong, or why it ended early.
func (s *tocScanner) syntaxErr(what string) error {
	if s.err != nil {
		return s.err
	}
	c, ok := s.peek()
	if !ok {
		return fmt.Errorf("%s: unexpected end of JSON", what)
	}
	return fmt.Errorf("%s: invalid character %q", what, c)
}

// expect consumes the byte c, after white space.
func (s *tocScanner) expect(c byte, what string) error {
	if got, ok := s.peek(); !ok || got != c {
		return s.syntaxErr(what)
	}
	s.pos++
	return nil
}

// another consumes what follows a member of an object or array: a comma,
// when another member follows, or the closing bracket.
func (s *tocScanner) another(closing byte, what string) (bool, error) {
	c, ok := s.peek()
	if ok && (c == ',' || c == closing) {
		s.pos++
		return c == ',', nil
	}
	return false, s.syntaxErr(what)
}

// value returns the next JSON value whole, unchecked: the caller hands it to
// encoding/json, which checks it.
func (s *tocScanner) value() ([]byte, error) {
	if _, ok := s.peek(); !ok {
		return nil, s.syntaxErr("value")
	}
	for {
		switch n, st := valueLen(s.buf[s.pos:s.end], s.eof); st {
		case valueWhole:
			v := s.buf[s.pos : s.pos+n]
			s.pos += n
			return v, nil
		case valueBad:
			return nil, s.syntaxErr("value")
		}
		// A literal that ends the input is whole only once the input is
		// known to end: fill once more after the last bytes.
		if s.eof || s.err != nil {
			return nil, s.syntaxErr("value")
		}
		s.fill()
	}
}

const (
	valueWhole = iota
	valuePart  // b ends within the value
	valueBad   // no value starts with b[0]
)

// valueLen returns the length of the JSON value at the start of b. It only
// finds where the value ends: a string's closing quote, the bracket that
// closes the first, or the delimiter after a number or literal. final says
// that nothing follows b.
func valueLen(b []byte, final bool) (int, int) {
	if len(b) == 0 {
		return 0, valuePart
	}
	if c := b[0]; c == ',' || c == ':' || c == '}' || c == ']' {
		return 0, valueBad
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return 0, valuePart
			}
		case '{', '[':
			depth++
			continue
		case '}', ']':
			depth--
		default:
			if depth > 0 {
				continue
			}
			// A number or literal: up to the next delimiter.
			for i++; i < len(b); i++ {
				if c := b[i]; c == ',' || c == ':' || c == '}' || c == ']' || c == '"' || isSpace(c) {
					return i, valueWhole
				}
			}
			if final {
				return len(b), valueWhole
			}
			return 0, valuePart
		}
		if depth == 0 {
			return i + 1, valueWhole
		}
	}
	return 0, valuePart
}
