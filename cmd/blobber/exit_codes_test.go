package main

import "testing"

// exitCodeCauses: each cause of failure, the commands it can happen to, and
// the one exit code README's table gives it on all of them. $ART is an
// artifact of exitCodeTree pushed to the test registry, $REPO its
// repository; $PLAIN an ordinary container image. Commands run through sh.
var exitCodeCauses = []exitCodeCase{
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
// exitCodeCauses, one script per cause, and checks the exit code: every
// one of them is a failure.
func TestExitCodes(t *testing.T) {
	exitCodeScripts{cases: exitCodeCauses, failure: func(int) bool { return true }}.run(t)
}
