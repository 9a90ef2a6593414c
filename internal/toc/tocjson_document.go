package toc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/containerd/stargz-snapshotter/estargz"
)

// document reads the whole TOC, calling each for every entry in order, and
// returns its version. The entry each gets may be reused for the next one:
// each keeps its strings, never the entry.
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

// isEntryRefused reports whether err came from the callback.
func isEntryRefused(err error) bool {
	var r errEntryRefused
	return errors.As(err, &r)
}
