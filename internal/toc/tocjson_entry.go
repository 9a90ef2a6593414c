package toc

import (
	"unicode/utf8"
	"unsafe"

	"github.com/containerd/stargz-snapshotter/estargz"
)

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
	// borrow is for a string that differs in every entry and that the
	// builder does not keep as it is (it copies the name into its arena,
	// decodes the digests): the value is the scanner's own bytes, valid
	// until the callback returns, rather than a copy made for every entry
	// and dropped at once.
	borrow bool
}

// entryFields are the fields by key, as TOCEntry's tags spell them (any
// other spelling, which encoding/json may also match, goes to it).
var entryFields = map[string]*entryField{
	"name":        {str: func(e *estargz.TOCEntry) *string { return &e.Name }, borrow: true},
	"type":        {str: func(e *estargz.TOCEntry) *string { return &e.Type }, slot: 1},
	"modtime":     {str: func(e *estargz.TOCEntry) *string { return &e.ModTime3339 }, slot: 2},
	"linkName":    {str: func(e *estargz.TOCEntry) *string { return &e.LinkName }},
	"userName":    {str: func(e *estargz.TOCEntry) *string { return &e.Uname }, slot: 3},
	"groupName":   {str: func(e *estargz.TOCEntry) *string { return &e.Gname }, slot: 4},
	"digest":      {str: func(e *estargz.TOCEntry) *string { return &e.Digest }, borrow: true},
	"chunkDigest": {str: func(e *estargz.TOCEntry) *string { return &e.ChunkDigest }, borrow: true},
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
	e := &s.scratch
	*e = estargz.TOCEntry{}
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
	if f.borrow {
		*f.str(e) = unsafe.String(unsafe.SliceData(raw), len(raw))
		return j + 1, fastDone
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
