package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/rogpeppe/go-internal/testscript"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

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
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"push-plain-image": pushPlainImage,
		},
	})
}

// pushPlainImage pushes an ordinary (not eStargz) single-layer image, the
// kind `docker push` makes, to the reference in args[0].
func pushPlainImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: push-plain-image REF")
	}
	ref, err := registry.ParseReference(args[0])
	ts.Check(err)
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	ts.Check(err)
	repo.PlainHTTP = true
	ctx := context.Background()

	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	ts.Check(tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: 6}))
	_, err = tw.Write([]byte("hello\n"))
	ts.Check(err)
	ts.Check(tw.Close())
	ts.Check(zw.Close())
	layer := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, tgz.Bytes())
	ts.Check(repo.Push(ctx, layer, bytes.NewReader(tgz.Bytes())))
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	configDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, config)
	ts.Check(repo.Push(ctx, configDesc, bytes.NewReader(config)))
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layer},
	})
	ts.Check(err)
	_, err = oras.TagBytes(ctx, repo, ocispec.MediaTypeImageManifest, manifest, ref.Reference)
	ts.Check(err)
}
