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

// syncExitCodes: sync's exit status for each cause, pull's for the same
// cause (README's table). $ART is exitCodeTree pushed; $PLAIN an ordinary
// image.
var syncExitCodes = []struct {
	cause    string
	code     int
	commands []string
}{
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
	reg := registrytest.Start(t)
	sec := startSecuredRegistries(t, reg)
	dir := t.TempDir()
	for i, c := range syncExitCodes {
		var script strings.Builder
		fmt.Fprintf(&script, "# sync, %s: exit %d\n", c.cause, c.code)
		script.WriteString("exec blobber push site $ART\npush-plain-image $PLAIN\n")
		for _, cmd := range c.commands {
			line := strings.ReplaceAll("blobber "+cmd+" >stdout.txt 2>stderr.txt; echo $?", "'", "''")
			fmt.Fprintf(&script, "exec sh -c '%s'\n", line)
			fmt.Fprintf(&script, "stdout '^%d$' # blobber %s\n", c.code, strings.ReplaceAll(cmd, "'", "''"))
			if c.code != 0 {
				fmt.Fprintf(&script, "grep '^blobber: ' stderr.txt\n")
			} else {
				fmt.Fprintf(&script, "! grep . stderr.txt\n")
			}
		}
		script.WriteString(exitCodeTree)
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
