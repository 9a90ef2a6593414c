package main

import "testing"

// diffExitCodes: diff's exit status for each outcome, as diff(1)'s: 0
// identical, 1 different, 2 and up for trouble. What other commands exit
// 1 for (exitError) diff exits 2 for, so that 1 always means "different";
// the other codes keep their meaning. $ART and $ART2 are two versions of
// exitCodeTree; $PLAIN an ordinary image.
var diffExitCodes = []exitCodeCase{
	{"identical", 0, []string{"diff $ART $ART", "diff $ART ./site", "diff ./site $ART"}},
	{"different", exitDifferent, []string{"diff $ART $ART2", "diff $ART2 ./site", "diff --stat $ART $ART2", "diff --format json $ART ./afile.d"}},
	{"registry unreachable", exitDiffTrouble, []string{"diff $ART $UNREACHABLE/codes/site:v1", "diff $UNREACHABLE/codes/site:v1 ./site"}},
	{"directory missing", exitDiffTrouble, []string{"diff $ART ./nope"}},
	{"usage", exitUsage, []string{"diff $ART", "diff ./site ./site", "diff --bogus $ART $ART2", `diff "Bad Ref!!" $ART`, "diff $ART site"}},
	{"tag not found", exitNotFound, []string{"diff $ART $REPO:nope", "diff $REPO:nope ./site"}},
	{"no credentials", exitUnauthorized, []string{"diff $AUTH_REGISTRY/team/site:v1 $ART"}},
	{"not an eStargz artifact", exitIntegrity, []string{"diff $PLAIN $ART", "diff $PLAIN ./site"}},
}

// TestDiffExitCodes runs the real binary for every outcome of diff and
// checks its exit status, and that trouble, never a difference, is
// reported on stderr.
func TestDiffExitCodes(t *testing.T) {
	exitCodeScripts{cases: diffExitCodes, prelude: "exec blobber push site2 $ART2\nmkdir afile.d\n", tree: "-- site2/a.txt --\nA\n", failure: func(code int) bool { return code > exitDifferent }}.run(t)
}
