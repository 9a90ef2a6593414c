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

// exitCodeCase is one cause of an outcome, the commands it can happen
// to, and the one exit code they all give for it.
type exitCodeCase struct {
	cause    string
	code     int
	commands []string
}

// exitCodeScripts describes a table of exit codes to check: what each
// script does before its commands, and which codes are failures (they
// say so on stderr in a line of their own; the others print nothing
// there).
type exitCodeScripts struct {
	cases   []exitCodeCase
	prelude string // after "exec blobber push site $ART" and the plain image
	tree    string // txtar files added to exitCodeTree
	failure func(code int) bool
}

// run writes one script per cause, running each command through sh, and
// runs them all with the real binary against an in-process registry
// ($REGISTRY, $REPO, $ART, $ART2 and $PLAIN; $AUTH_REGISTRY and the
// other secured ones; $UNREACHABLE).
func (s exitCodeScripts) run(t *testing.T) {
	reg := registrytest.Start(t)
	sec := startSecuredRegistries(t, reg)
	dir := t.TempDir()
	for i, c := range s.cases {
		var script strings.Builder
		fmt.Fprintf(&script, "# %s: exit %d\n", c.cause, c.code)
		script.WriteString("exec blobber push site $ART\npush-plain-image $PLAIN\n" + s.prelude)
		for _, cmd := range c.commands {
			// Quoted for testscript: '' is a quote inside quotes.
			line := strings.ReplaceAll("blobber "+cmd+" >stdout.txt 2>stderr.txt; echo $?", "'", "''")
			fmt.Fprintf(&script, "exec sh -c '%s'\n", line)
			fmt.Fprintf(&script, "stdout '^%d$' # blobber %s\n", c.code, strings.ReplaceAll(cmd, "'", "''"))
			if s.failure(c.code) {
				script.WriteString("grep '^blobber: ' stderr.txt\n")
			} else {
				script.WriteString("! grep . stderr.txt\n")
			}
		}
		script.WriteString(exitCodeTree + s.tree)
		name := fmt.Sprintf("%02d_%s.txtar", i, strings.NewReplacer(" ", "_", ",", "", "-", "", "'", "").Replace(c.cause))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg.Host())
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
