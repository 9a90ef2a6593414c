package interop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/signing"
)

// cosignVersion is the cosign the signatures must interoperate with.
const cosignVersion = "v3.1.3"

// cosignBinary builds cosign (see toolBinary); $COSIGN names a prebuilt one.
func cosignBinary(t *testing.T) string {
	return toolBinary(t, "COSIGN", "cosign", "github.com/sigstore/cosign/v3/cmd/cosign", cosignVersion)
}

// runCosign runs cosign with a password for its keys and no network
// beyond the test registry.
func runCosign(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=interop-pw", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, ".sigstore"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("cosign %s:\n%s", strings.Join(args, " "), out.String())
	return out.String(), err
}

func TestCosignInterop(t *testing.T) {
	ctx := context.Background()
	bin := cosignBinary(t)
	reg := registrytest.Start(t)
	dir := t.TempDir()

	// cosign's own key pair: Blobber must read its encrypted cosign.key.
	if _, err := runCosign(t, bin, dir, "generate-key-pair"); err != nil {
		t.Fatal(err)
	}
	priv, err := signing.LoadKey(filepath.Join(dir, "cosign.key"), []byte("interop-pw"))
	if err != nil {
		t.Fatalf("loading cosign's key: %v", err)
	}
	pub, err := signing.LoadPublicKey(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewKeySigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := signing.NewVerifier(signing.Policy{Key: pub, InsecureIgnoreTlog: true})
	if err != nil {
		t.Fatal(err)
	}
	tree := fstest.MapFS{"hello.txt": {Data: []byte("interop\n"), Mode: 0o644}}
	registryFlags := []string{"--allow-http-registry", "--allow-insecure-registry"}

	t.Run("cosign verifies blobber", func(t *testing.T) {
		c, err := blobber.NewClient(blobber.WithSigner(signer))
		if err != nil {
			t.Fatal(err)
		}
		desc, err := c.Push(ctx, reg.Host()+"/interop/by-blobber:v1", tree)
		if err != nil {
			t.Fatal(err)
		}
		ref := reg.Host() + "/interop/by-blobber@" + desc.Digest.String()
		args := append([]string{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog"}, registryFlags...)
		if out, err := runCosign(t, bin, dir, append(args, ref)...); err != nil {
			t.Fatalf("cosign verify rejects Blobber's signature: %v\n%s", err, out)
		}
		// and rejects it under another key
		if _, err := runCosign(t, bin, dir, "generate-key-pair", "--output-key-prefix", "other"); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"verify", "--key", "other.pub", "--insecure-ignore-tlog"}, registryFlags...)
		if _, err := runCosign(t, bin, dir, append(args, ref)...); err == nil {
			t.Fatal("cosign verify accepted Blobber's signature under another key")
		}
	})

	t.Run("blobber verifies cosign", func(t *testing.T) {
		plain, err := blobber.NewClient()
		if err != nil {
			t.Fatal(err)
		}
		desc, err := plain.Push(ctx, reg.Host()+"/interop/by-cosign:v1", tree)
		if err != nil {
			t.Fatal(err)
		}
		ref := reg.Host() + "/interop/by-cosign@" + desc.Digest.String()
		args := append([]string{"sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "-y"}, registryFlags...)
		if out, err := runCosign(t, bin, dir, append(args, ref)...); err != nil {
			t.Fatalf("cosign sign: %v\n%s", err, out)
		}
		c, err := blobber.NewClient(blobber.WithVerifier(verifier))
		if err != nil {
			t.Fatal(err)
		}
		_, sigs, err := c.Verify(ctx, reg.Host()+"/interop/by-cosign:v1")
		if err != nil {
			t.Fatalf("Blobber rejects cosign's signature: %v (%+v)", err, sigs)
		}
		img, err := c.Open(ctx, reg.Host()+"/interop/by-cosign:v1")
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		if data, err := img.ReadFile("hello.txt"); err != nil || string(data) != "interop\n" {
			t.Fatalf("%q, %v", data, err)
		}
	})
}
