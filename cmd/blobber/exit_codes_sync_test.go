package main

import "testing"

// syncExitCodes: sync's exit status for each cause, pull's for the same
// cause (README's table). $ART is exitCodeTree pushed; $PLAIN an ordinary
// image.
var syncExitCodes = []exitCodeCase{
	{"done", 0, []string{"sync $ART out", "sync --dry-run $ART ./site", "sync --delete $ART out"}},
	{"usage", exitUsage, []string{"sync $ART", "sync --bogus $ART out", `sync "Bad Ref!!" out`, "sync --include '[' $ART out"}},
	{"a file where DIR should be", exitError, []string{"sync $ART afile"}},
	{"registry unreachable", exitError, []string{"sync $UNREACHABLE/codes/site:v1 out"}},
	{"tag not found", exitNotFound, []string{"sync $REPO:nope out"}},
	{"no credentials", exitUnauthorized, []string{"sync $AUTH_REGISTRY/team/site:v1 out"}},
	{"not an eStargz artifact", exitIntegrity, []string{"sync $PLAIN out"}},
}

// TestSyncExitCodes runs the real binary for every cause and checks its
// exit status, and that a failure is reported on stderr.
func TestSyncExitCodes(t *testing.T) {
	exitCodeScripts{cases: syncExitCodes, prelude: "", tree: "", failure: func(code int) bool { return code != 0 }}.run(t)
}
