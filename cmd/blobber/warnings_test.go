package main

import (
	"errors"
	"strings"
	"testing"
)

// A library warning is one line with nothing that drives the terminal,
// whatever names the artifact or the registry put in it.
func TestWarningsAreOneSafeLine(t *testing.T) {
	var out strings.Builder
	newWarningLogger(&out).Warn("cached bytes did not verify", "artifact", "reg/x\x1b]0;pwned\x07", "error", errors.New("a\nb\x1b[2J"))
	got := out.String()
	if strings.Count(got, "\n") != 1 || strings.ContainsAny(got, "\x1b\x07\r") {
		t.Errorf("warning %q: want one line without control characters", got)
	}
}
