package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/signing"
)

// forgedRow is what a hostile string wants the terminal to show as a line
// of its own: a verification that never happened.
const forgedRow = "verified sha256:0000000000000000000000000000000000000000000000000000000000000000 signed by key security-team"

// Hostile names (invalid UTF-8 is not among them: the TOC is JSON, whose
// writer turns it into U+FFFD). Each tries to drive the terminal (clear the screen,
// retitle the window, colour the rest), to overwrite its own line ("\r") or
// to pose as more than one entry ("\n").
var hostileNames = []string{
	"clear\x1b[2J\x1b[Hscreen",
	"title\x1b]0;pwned\x07",
	"cr\r" + forgedRow,
	"two\n" + forgedRow,
	"c1\u009b31mred",
	"bidi\u202etxt.exe",
	`"quoted"`,
}

// readable names stay as they are.
var readableNames = []string{"plain.txt", "ünïcødé-名前.txt", `back\slash`, "spaced name"}

func TestTerminalInjection(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	t.Setenv("BLOBBER_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(t.TempDir(), "docker"))

	var entries []ta.Entry
	for _, n := range append(append([]string{}, hostileNames...), readableNames...) {
		entries = append(entries, ta.File(n, "x", 0o644))
	}
	entries = append(entries, ta.Symlink("link", "plain.txt\x1b[8m\n"+forgedRow))
	ref := pushHostile(t, ctx, reg, "names", entries...)
	repo, err := remote.NewRepository(strings.TrimSuffix(ref, ":v1"))
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	desc, err := repo.Resolve(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	pushHostileSignature(t, ctx, repo, desc)
	nEntries := len(hostileNames) + len(readableNames) + 1

	t.Run("ls", func(t *testing.T) {
		out, errOut, code := runCLI(t, "ls", ref)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := checkLines(t, out)
		if len(lines) != nEntries {
			t.Errorf("%d lines for %d entries:\n%s", len(lines), nEntries, out)
		}
		for _, n := range readableNames {
			if !containsLine(lines, n) {
				t.Errorf("readable name %q not listed as it is:\n%s", n, out)
			}
		}
		for _, n := range hostileNames {
			if !containsLine(lines, printable(n)) {
				t.Errorf("%q not listed quoted:\n%s", n, out)
			}
		}
	})
	t.Run("ls -l", func(t *testing.T) {
		out, errOut, code := runCLI(t, "ls", "-l", ref)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := checkLines(t, out)
		if len(lines) != nEntries+1 { // and the total
			t.Errorf("%d lines for %d entries:\n%s", len(lines), nEntries, out)
		}
		if !strings.Contains(out, ` link -> "plain.txt\x1b[8m\n`) {
			t.Errorf("link target not quoted:\n%s", out)
		}
	})
	t.Run("signatures", func(t *testing.T) {
		out, errOut, code := runCLI(t, "signatures", ref)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := checkLines(t, out)
		if len(lines) != 2 { // the header and the one signature
			t.Errorf("%d lines for one signature:\n%s", len(lines), out)
		}
	})
	t.Run("verify", func(t *testing.T) {
		_, errOut, code := runCLI(t, "verify", "--verify-key", writePublicKey(t), "--insecure-ignore-tlog", ref)
		if code != exitIntegrity {
			t.Errorf("exit %d, want %d: %s", code, exitIntegrity, errOut)
		}
		if lines := checkLines(t, errOut); len(lines) != 1 {
			t.Errorf("error in %d lines:\n%s", len(lines), errOut)
		}
	})
	t.Run("cat error", func(t *testing.T) {
		_, errOut, code := runCLI(t, "cat", ref, "link")
		if code == 0 {
			t.Fatalf("cat of a link to nowhere succeeded")
		}
		if lines := checkLines(t, errOut); len(lines) != 1 {
			t.Errorf("error in %d lines:\n%s", len(lines), errOut)
		}
	})
	// A pull refuses the FIFO, and its error names it.
	t.Run("pull error", func(t *testing.T) {
		fifoRef := pushHostile(t, ctx, reg, "fifo", ta.File("a", "x", 0o644), ta.Fifo("fifo\x1b]0;pwned\x07\r\n"+forgedRow))
		_, errOut, code := runCLI(t, "pull", fifoRef, filepath.Join(t.TempDir(), "out"))
		if code != exitIntegrity {
			t.Errorf("exit %d, want %d: %s", code, exitIntegrity, errOut)
		}
		if lines := checkLines(t, errOut); len(lines) != 1 {
			t.Errorf("error in %d lines:\n%s", len(lines), errOut)
		}
	})
}

// The error line never carries a raw control character, whatever the
// error says.
func TestReportErrorOneLine(t *testing.T) {
	var b bytes.Buffer
	err := errors.Join(errors.New("reading \"a\x1b]0;pwned\x07\rb\": \xff"), errors.New(forgedRow))
	reportError(&b, err)
	lines := checkLines(t, b.String())
	want := `blobber: reading "a\x1b]0;pwned\a\rb": \xff ` + forgedRow
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("got %q\nwant %q", b.String(), want+"\n")
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"a/b.txt":        "a/b.txt",
		"ünïcødé 名前":     "ünïcødé 名前",
		`back\slash`:     `back\slash`,
		"tab\there":      `"tab\there"`,
		"esc\x1b[2J":     `"esc\x1b[2J"`,
		"nl\nx":          `"nl\nx"`,
		"del\x7f":        `"del\x7f"`,
		"c1\u0085":       `"c1\u0085"`,
		"rlo\u202e":      `"rlo\u202e"`,
		"ls\u2028x":      `"ls\u2028x"`,
		"bad\xff":        `"bad\xff"`,
		`"looks quoted"`: `"\"looks quoted\""`,
		`mid"quote`:      `mid"quote`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}

// pushHostile pushes the eStargz of entries, as they are, to
// hostile/NAME:v1 and returns that reference.
func pushHostile(t *testing.T, ctx context.Context, reg *registrytest.Registry, name string, entries ...ta.Entry) string {
	t.Helper()
	blob, tocDigest, diffID, err := ta.EStargz(ta.Tar(entries...))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := remote.NewRepository(reg.Host() + "/hostile/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	if _, err := ta.New(blob, tocDigest, diffID).Push(ctx, repo, "v1"); err != nil {
		t.Fatal(err)
	}
	return reg.Host() + "/hostile/" + name + ":v1"
}

// runCLI runs blobber with args as main does, and returns what it printed
// and its exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		code = reportError(&errOut, err)
	}
	return out.String(), errOut.String(), code
}

// checkLines fails the test on any byte of s a terminal would act on
// rather than show (C0 and C1 controls, DEL, invalid UTF-8) other than the
// newlines ending lines, and returns the lines.
func checkLines(t *testing.T, s string) []string {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("output is not UTF-8: %q", s)
	}
	for _, r := range s {
		if r != '\n' && (r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0x202e) {
			t.Errorf("output holds raw %U: %q", r, s)
			break
		}
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "verified ") {
			t.Errorf("forged row: %q", l)
		}
	}
	return lines
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// pushHostileSignature attaches to desc a signature whose annotations and
// claimed signer carry terminal escapes and a forged row.
func pushHostileSignature(t *testing.T, ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor) {
	t.Helper()
	bundle := []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",` +
		`"verificationMaterial":{"publicKey":{"hint":"mallory\u001b[2J\r\n` + forgedRow + `\t"}},` +
		`"dsseEnvelope":{"payload":"","payloadType":"application/vnd.in-toto+json\u001b]0;pwned\u0007","signatures":[]}}`)
	bundleDesc := content.NewDescriptorFromBytes(blobber.BundleMediaType, bundle)
	if err := repo.Push(ctx, bundleDesc, bytes.NewReader(bundle)); err != nil {
		t.Fatal(err)
	}
	// Packed by hand: oras.PackManifest refuses a created time that is not
	// one, and a hostile registry does not ask.
	raw, err := json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: blobber.BundleMediaType,
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{bundleDesc},
		Subject:      &ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size},
		Annotations:  map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z\x1b[1A\r\n" + forgedRow},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(ctx, ocispec.DescriptorEmptyJSON, bytes.NewReader(ocispec.DescriptorEmptyJSON.Data)); err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(ctx, content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, raw), bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
}

// writePublicKey writes a fresh public key that signed nothing.
func writePublicKey(t *testing.T) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := signing.MarshalPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(p, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
