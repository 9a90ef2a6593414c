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

// exitCodeCauses: each cause of failure, the commands it can happen to, and
// the one exit code README's table gives it on all of them. $ART is an
// artifact of exitCodeTree pushed to the test registry, $REPO its
// repository; $PLAIN an ordinary container image. Commands run through sh.
var exitCodeCauses = []struct {
	cause    string
	code     int
	commands []string
}{
	{"unknown command", exitUsage, []string{
		"frobnicate a b", "cache bogus",
	}},
	{"wrong number of arguments", exitUsage, []string{
		"ls", "cat $ART", "cp $ART a.txt", "pull $ART", "push site", "tags", "verify", "cache info x", "cache clear x",
		"copy $ART",
	}},
	{"unknown flag", exitUsage, []string{
		"ls --bogus $ART", "cat --bogus $ART a.txt", "push --bogus site $REPO:x", "cache prune --bogus",
	}},
	{"bad flag value", exitUsage, []string{
		"--concurrency -3 ls $ART", "--retries -1 cat $ART a.txt", "--max-total-size lots pull $ART out",
		"--max-toc-size -1 ls $ART", "push --estargz-chunk-size 4Mx site $REPO:x", "cache prune --max-size lots",
		"--timeout -1s ls $ART",
	}},
	{"missing --ca-file", exitUsage, []string{
		"--ca-file nope.pem ls $ART", "--ca-file nope.pem cat $ART a.txt", "--ca-file nope.pem pull $ART out",
		"--ca-file nope.pem push site $REPO:x", "--ca-file nope.pem tags $REPO",
	}},
	{"missing --registry-config", exitUsage, []string{
		"--registry-config nope.json ls $ART", "--registry-config nope.json push site $REPO:x",
		"--registry-config nope.json pull $ART out", "--registry-config nope.json logout $REGISTRY",
	}},
	{"invalid reference", exitUsage, []string{
		`ls "Bad Ref!!"`, `cat "Bad Ref!!" a.txt`, `cp "Bad Ref!!" a.txt out`, `pull "Bad Ref!!" out`,
		`push site "Bad Ref!!"`, `tags "Bad Ref!!"`, `copy $ART "Bad Ref!!"`,
	}},
	{"a directory where a file is wanted", exitUsage, []string{
		"cat $ART sub", "cp $ART sub out", "push afile $REPO:x",
	}},
	{"swapped arguments", exitUsage, []string{
		"push $REPO:x site",
	}},
	{"network under --offline", exitUsage, []string{
		"--offline tags $REPO", "--offline push site $REPO:x", "--offline copy $ART $REPO:y",
	}},
	{"cache clear without -y, stdin not a terminal", exitUsage, []string{
		"cache clear </dev/null",
	}},
	{"path not in the artifact", exitNotFound, []string{
		"cat $ART nope.txt", "cp $ART nope.txt out",
	}},
	{"tag not found", exitNotFound, []string{
		"ls $REPO:nope", "cat $REPO:nope a.txt", "cp $REPO:nope a.txt out", "pull $REPO:nope out",
		"tags $REGISTRY/codes/none", "copy $REPO:nope $REPO:y",
	}},
	{"no credentials", exitUnauthorized, []string{
		"ls $AUTH_REGISTRY/team/site:v1", "cat $AUTH_REGISTRY/team/site:v1 a.txt",
		"pull $AUTH_REGISTRY/team/site:v1 out", "push site $AUTH_REGISTRY/team/site:v1",
		"copy $ART $AUTH_REGISTRY/team/copy:v1",
	}},
	{"not an eStargz artifact", exitIntegrity, []string{
		"ls $PLAIN", "cat $PLAIN hello.txt", "cp $PLAIN hello.txt out", "pull $PLAIN out",
	}},
	{"registry unreachable", exitError, []string{
		"ls $UNREACHABLE/codes/site:v1", "pull $UNREACHABLE/codes/site:v1 out", "push site $UNREACHABLE/codes/site:v1",
		"copy $ART $UNREACHABLE/codes/site:v1",
	}},
}

const exitCodeTree = `
-- site/a.txt --
a
-- site/sub/b.txt --
b
-- afile --
not a directory
`

// TestExitCodes runs the real binary for every cause and command in
// exitCodeCauses, one script per cause, and checks the exit code.
func TestExitCodes(t *testing.T) {
	reg := registrytest.Start(t)
	sec := startSecuredRegistries(t, reg)
	dir := t.TempDir()
	for i, c := range exitCodeCauses {
		var script strings.Builder
		fmt.Fprintf(&script, "# %s: exit %d\n", c.cause, c.code)
		fmt.Fprintf(&script, "exec blobber push site $ART\n")
		fmt.Fprintf(&script, "push-plain-image $PLAIN\n")
		for _, cmd := range c.commands {
			// Quoted for testscript: '' is a quote inside quotes.
			line := strings.ReplaceAll("blobber "+cmd+" >stdout.txt 2>stderr.txt; echo $?", "'", "''")
			fmt.Fprintf(&script, "exec sh -c '%s'\n", line)
			fmt.Fprintf(&script, "stdout '^%d$' # blobber %s\n", c.code, strings.ReplaceAll(cmd, "'", "''"))
			// Every failure says so on stderr, in a line of its own.
			fmt.Fprintf(&script, "grep '^blobber: ' stderr.txt\n")
		}
		script.WriteString(exitCodeTree)
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
