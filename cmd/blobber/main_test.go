package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// TestMain lets the test binary act as the blobber command in scripts, so
// the scripts run the real CLI end to end.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"blobber": func() { os.Exit(run()) }})
}

// TestScripts runs testdata/script/*.txtar against a real in-process
// CNCF Distribution registry, whose address scripts find in $REGISTRY.
func TestScripts(t *testing.T) {
	reg := registrytest.Start(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg.Host())
			env.Setenv("DOCKER_CONFIG", env.WorkDir+"/.docker")
			env.Setenv("UNREACHABLE", "127.0.0.1:1")
			return nil
		},
	})
}
