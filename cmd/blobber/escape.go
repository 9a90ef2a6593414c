package main

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Everything blobber prints that came from a registry or an artifact (file
// names, link targets, tags, signature annotations and identities, and the
// error messages that quote them) goes through the two functions below, so
// that no such string can drive the terminal: clear the screen, retitle the
// window, move the cursor back over a line ("\r"), or end a line early and
// forge another row ("\n").

// printable returns s as written when a terminal shows it as written, else
// quoted as Go's %q does ("a\x1b[2Jb", "two\nlines"): when s has a control
// character, a Unicode format or separator character (a bidirectional
// override, a line separator), or invalid UTF-8. Printable Unicode is kept.
// A name that itself begins with a double quote is quoted too, so that no
// raw name reads as the quoted form of another.
func printable(s string) string {
	if needsQuoting(s) {
		return strconv.Quote(s)
	}
	return s
}

func needsQuoting(s string) bool {
	if strings.HasPrefix(s, `"`) || !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return true
		}
	}
	return false
}

// oneLine makes an error message safe to print as one line: the newlines
// that join several errors become spaces, and every other character
// printable would quote becomes its escape (\x1b, \r, \u202e, and \xff for
// a byte that is not UTF-8), in place, so that the message still reads as
// a sentence.
func oneLine(msg string) string {
	if utf8.ValidString(msg) && !strings.ContainsFunc(msg, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return msg
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		r, size := utf8.DecodeRuneInString(msg[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(msg[i]), 16))
		case r == '\n':
			b.WriteByte(' ')
		case strconv.IsPrint(r):
			b.WriteString(msg[i : i+size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
