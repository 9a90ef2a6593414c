package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// diffExitCodes: diff's exit status for each outcome, as diff(1)'s: 0
// identical, 1 different, 2 and up for trouble. What other commands exit
// 1 for (exitError) diff exits 2 for, so that 1 always means "different";
// the other codes keep their meaning. $ART and $ART2 are two versions of
// exitCodeTree; $PLAIN an ordinary image.
var diffExitCodes = []struct {
	cause    string
	code     int
	commands []string
}{
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
	reg := registrytest.Start(t)
	sec := startSecuredRegistries(t, reg)
	dir := t.TempDir()
	for i, c := range diffExitCodes {
		var script strings.Builder
		fmt.Fprintf(&script, "# diff, %s: exit %d\n", c.cause, c.code)
		script.WriteString("exec blobber push site $ART\nexec blobber push site2 $ART2\npush-plain-image $PLAIN\nmkdir afile.d\n")
		for _, cmd := range c.commands {
			line := strings.ReplaceAll("blobber "+cmd+" >stdout.txt 2>stderr.txt; echo $?", "'", "''")
			fmt.Fprintf(&script, "exec sh -c '%s'\n", line)
			fmt.Fprintf(&script, "stdout '^%d$' # blobber %s\n", c.code, strings.ReplaceAll(cmd, "'", "''"))
			if c.code > exitDifferent {
				fmt.Fprintf(&script, "grep '^blobber: ' stderr.txt\n")
			} else {
				fmt.Fprintf(&script, "! grep . stderr.txt\n")
			}
		}
		script.WriteString(exitCodeTree)
		script.WriteString("-- site2/a.txt --\nA\n")
		name := fmt.Sprintf("%02d_%s.txtar", i, strings.ReplaceAll(c.cause, " ", "_"))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", reg.Host()+"/codes/site")
			env.Setenv("ART", reg.Host()+"/codes/site:v1")
			env.Setenv("ART2", reg.Host()+"/codes/site:v2")
			env.Setenv("PLAIN", reg.Host()+"/codes/plain:v1")
			env.Setenv("DOCKER_CONFIG", env.WorkDir+"/.docker")
			env.Setenv("BLOBBER_CACHE_DIR", env.WorkDir+"/.cache/blobber")
			env.Setenv("UNREACHABLE", "127.0.0.1:1")
			sec.setenv(env)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"push-plain-image": pushPlainImage,
		},
	})
}
