package toc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/containerd/stargz-snapshotter/estargz"
)

// The TOC JSON is read by a scanner of its own. encoding/json's Decoder
// read it at 46 MB/s here: 73 ms for the 10,000 entries of a small tree,
// half of `ls`. The scanner decodes entries of the usual shape itself (the
// TOCEntry fields of strings without escapes and of integers) and hands
// any other value whole to encoding/json, so that what it returns, and
// whether it fails, is what encoding/json's Unmarshal into estargz's JTOC
// gives (but for a TOC that lists its entries twice, which it refuses):
// FuzzTOCJSON checks the two against each other.

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

// document reads the whole TOC, calling each for every entry in order, and
// returns its version.
func (s *tocScanner) document(each func(*estargz.TOCEntry) error) (version int, err error) {
	if c, ok := s.peek(); ok && c == 'n' {
		// null decodes into the zero JTOC: no version, no entries.
		if err := s.null("start"); err != nil {
			return 0, err
		}
		return 0, s.finished()
	}
	if err := s.expect('{', "start"); err != nil {
		return 0, err
	}
	if c, ok := s.peek(); ok && c == '}' {
		s.pos++
	} else {
		sawEntries := false
		for {
			key, err := s.key()
			if err != nil {
				return 0, err
			}
			if err := s.expect(':', "after key"); err != nil {
				return 0, err
			}
			// encoding/json matches keys to JTOC's fields ignoring case
			// (as strings.EqualFold does), so "Entries" is the entries.
			switch {
			case strings.EqualFold(key, "entries"):
				// A second list would be merged into the first, element by
				// element, by encoding/json, after the scanner has handed
				// the first one on: refused rather than read otherwise.
				if sawEntries {
					return 0, errors.New("the TOC lists its entries twice")
				}
				sawEntries = true
				if err := s.entries(each); err != nil {
					return 0, err
				}
			case strings.EqualFold(key, "version"):
				v, err := s.value()
				if err != nil {
					return 0, err
				}
				if err := json.Unmarshal(v, &version); err != nil {
					return 0, fmt.Errorf("version: %w", err)
				}
			default:
				v, err := s.value()
				if err != nil {
					return 0, err
				}
				if !json.Valid(v) {
					return 0, fmt.Errorf("field %q: invalid JSON", key)
				}
			}
			more, err := s.another('}', "after field")
			if err != nil {
				return 0, err
			}
			if !more {
				break
			}
		}
	}
	return version, s.finished()
}

// finished checks that nothing but white space follows the document.
func (s *tocScanner) finished() error {
	if _, ok := s.peek(); ok || s.err != nil {
		return s.syntaxErr("trailing data")
	}
	return nil
}

// null consumes the literal null.
func (s *tocScanner) null(what string) error {
	v, err := s.value()
	if err != nil {
		return err
	}
	if string(v) != "null" {
		return fmt.Errorf("%s: invalid literal %q", what, v)
	}
	return nil
}

// key reads an object key.
func (s *tocScanner) key() (string, error) {
	if c, ok := s.peek(); !ok || c != '"' {
		return "", s.syntaxErr("key")
	}
	v, err := s.value()
	if err != nil {
		return "", err
	}
	if raw, ok := plainString(v); ok {
		return string(raw), nil
	}
	var key string
	if err := json.Unmarshal(v, &key); err != nil {
		return "", fmt.Errorf("key: %w", err)
	}
	return key, nil
}

// plainString returns the content of the JSON string v when it needs no
// decoding: no escapes, no control characters, valid UTF-8.
func plainString(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	raw := v[1 : len(v)-1]
	ascii := true
	for _, c := range raw {
		if c < 0x20 || c == '"' || c == '\\' {
			return nil, false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	return raw, ascii || utf8.Valid(raw)
}

// entries reads the array of entries; null, as encoding/json reads it,
// is an empty list (estargz's writer and zstd:chunked's write it for a
// tree without entries).
func (s *tocScanner) entries(each func(*estargz.TOCEntry) error) error {
	if c, ok := s.peek(); ok && c == 'n' {
		return s.null("entries")
	}
	if err := s.expect('[', "entries"); err != nil {
		return err
	}
	if c, ok := s.peek(); ok && c == ']' {
		s.pos++
		return nil
	}
	for {
		e, err := s.entry()
		if err != nil {
			return err
		}
		if err := each(e); err != nil {
			return errEntryRefused{err}
		}
		if more, err := s.another(']', "after entry"); err != nil || !more {
			return err
		}
	}
}

// errEntryRefused carries the error of the callback, which is returned as
// it is rather than as malformed JSON.
type errEntryRefused struct{ error }

func (e errEntryRefused) Unwrap() error { return e.error }

// entry decodes one entry: itself when it has the usual shape, else with
// encoding/json.
func (s *tocScanner) entry() (*estargz.TOCEntry, error) {
	if _, ok := s.peek(); !ok {
		return nil, s.syntaxErr("entry")
	}
	for {
		e, n, st := s.fastEntry(s.buf[s.pos:s.end])
		if st == fastDone {
			s.pos += n
			return e, nil
		}
		if st == fastOther || !s.fill() {
			break
		}
	}
	v, err := s.value()
	if err != nil {
		return nil, err
	}
	var e *estargz.TOCEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, fmt.Errorf("entry: %w", err)
	}
	return e, nil
}

type fastStatus int

const (
	fastDone  fastStatus = iota
	fastMore             // b ends within the entry
	fastOther            // not the usual shape: encoding/json decodes it
)

// entryField is a field of TOCEntry that the fast path decodes: a string
// (str), or an integer (i64, or i for the fields of type int).
type entryField struct {
	str  func(*estargz.TOCEntry) *string
	i64  func(*estargz.TOCEntry) *int64
	i    func(*estargz.TOCEntry) *int
	slot int // for a string that repeats from entry to entry: its place in tocScanner.last
}

// entryFields are the fields by key, as TOCEntry's tags spell them (any
// other spelling, which encoding/json may also match, goes to it).
var entryFields = map[string]*entryField{
	"name":        {str: func(e *estargz.TOCEntry) *string { return &e.Name }},
	"type":        {str: func(e *estargz.TOCEntry) *string { return &e.Type }, slot: 1},
	"modtime":     {str: func(e *estargz.TOCEntry) *string { return &e.ModTime3339 }, slot: 2},
	"linkName":    {str: func(e *estargz.TOCEntry) *string { return &e.LinkName }},
	"userName":    {str: func(e *estargz.TOCEntry) *string { return &e.Uname }, slot: 3},
	"groupName":   {str: func(e *estargz.TOCEntry) *string { return &e.Gname }, slot: 4},
	"digest":      {str: func(e *estargz.TOCEntry) *string { return &e.Digest }},
	"chunkDigest": {str: func(e *estargz.TOCEntry) *string { return &e.ChunkDigest }},
	"size":        {i64: func(e *estargz.TOCEntry) *int64 { return &e.Size }},
	"mode":        {i64: func(e *estargz.TOCEntry) *int64 { return &e.Mode }},
	"offset":      {i64: func(e *estargz.TOCEntry) *int64 { return &e.Offset }},
	"innerOffset": {i64: func(e *estargz.TOCEntry) *int64 { return &e.InnerOffset }},
	"chunkOffset": {i64: func(e *estargz.TOCEntry) *int64 { return &e.ChunkOffset }},
	"chunkSize":   {i64: func(e *estargz.TOCEntry) *int64 { return &e.ChunkSize }},
	"uid":         {i: func(e *estargz.TOCEntry) *int { return &e.UID }},
	"gid":         {i: func(e *estargz.TOCEntry) *int { return &e.GID }},
	"devMajor":    {i: func(e *estargz.TOCEntry) *int { return &e.DevMajor }},
	"devMinor":    {i: func(e *estargz.TOCEntry) *int { return &e.DevMinor }},
}

// fastEntry decodes the object at the start of b if it has only keys of
// entryFields, with plain strings and integers as values.
func (s *tocScanner) fastEntry(b []byte) (*estargz.TOCEntry, int, fastStatus) {
	if len(b) == 0 || b[0] != '{' {
		return nil, 0, fastOther
	}
	e := new(estargz.TOCEntry)
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		return e, i + 1, fastDone
	}
	for {
		// "key"
		if i >= len(b) {
			return nil, 0, fastMore
		}
		if b[i] != '"' {
			return nil, 0, fastOther
		}
		j := i + 1
		for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
			j++
		}
		if j >= len(b) {
			return nil, 0, fastMore
		}
		if b[j] != '"' {
			return nil, 0, fastOther
		}
		f := entryFields[string(b[i+1:j])]
		if f == nil {
			return nil, 0, fastOther
		}
		i = skipSpace(b, j+1)
		if i >= len(b) {
			return nil, 0, fastMore
		}
		if b[i] != ':' {
			return nil, 0, fastOther
		}
		i = skipSpace(b, i+1)
		// the value
		var st fastStatus
		if f.str != nil {
			i, st = s.setString(e, f, b, i)
		} else {
			i, st = setInt(e, f, b, i)
		}
		if st != fastDone {
			return nil, 0, st
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, 0, fastMore
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return e, i + 1, fastDone
		default:
			return nil, 0, fastOther
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// setString reads the plain string at b[i] into field f.
func (s *tocScanner) setString(e *estargz.TOCEntry, f *entryField, b []byte, i int) (int, fastStatus) {
	if i >= len(b) {
		return 0, fastMore
	}
	if b[i] != '"' {
		return 0, fastOther
	}
	j := i + 1
	ascii := true
	for ; j < len(b) && b[j] != '"'; j++ {
		c := b[j]
		if c < 0x20 || c == '\\' {
			return 0, fastOther
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if j >= len(b) {
		return 0, fastMore
	}
	raw := b[i+1 : j]
	if !ascii && !utf8.Valid(raw) {
		return 0, fastOther // encoding/json replaces invalid UTF-8
	}
	v := s.last[f.slot]
	if f.slot == 0 || string(raw) != v {
		v = string(raw)
		s.last[f.slot] = v
	}
	*f.str(e) = v
	return j + 1, fastDone
}

// setInt reads the integer at b[i] into field f: JSON's -?(0|[1-9][0-9]*),
// at most 18 digits, ended by a delimiter.
func setInt(e *estargz.TOCEntry, f *entryField, b []byte, i int) (int, fastStatus) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var v int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i-start == 18 {
			return 0, fastOther
		}
		v = v*10 + int64(b[i]-'0')
	}
	if i >= len(b) {
		return 0, fastMore
	}
	if c := b[i]; i == start || (b[start] == '0' && i-start > 1) || !(c == ',' || c == '}' || isSpace(c)) {
		return 0, fastOther
	}
	if neg {
		v = -v
	}
	if f.i64 != nil {
		*f.i64(e) = v
		return i, fastDone
	}
	if int64(int(v)) != v {
		return 0, fastOther // too large for int here
	}
	*f.i(e) = int(v)
	return i, fastDone
}

// isEntryRefused reports whether err came from the callback.
func isEntryRefused(err error) bool {
	var r errEntryRefused
	return errors.As(err, &r)
}
