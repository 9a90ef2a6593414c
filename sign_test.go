package blobber_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/signing"
)

func newP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keySigner(t *testing.T, k *ecdsa.PrivateKey) blobber.Signer {
	t.Helper()
	s, err := signing.NewKeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyVerifier(t *testing.T, k *ecdsa.PrivateKey) blobber.Verifier {
	t.Helper()
	v, err := signing.NewVerifier(signing.Policy{Key: k.Public(), InsecureIgnoreTlog: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sigClient(t *testing.T, opts ...blobber.Option) *blobber.Client {
	t.Helper()
	c, err := blobber.NewClient(append([]blobber.Option{blobber.WithPlainHTTP(true)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var signedTree = fstest.MapFS{"a.txt": {Data: []byte("signed content\n"), Mode: 0o644}}

// watchRequests records the paths of the requests the proxy forwards.
func watchRequests(p *registrytest.Proxy) func() []string {
	var mu sync.Mutex
	var seen []string
	p.SetFaults(func(r *http.Request) *registrytest.Fault {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		return nil
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

func repository(t *testing.T, host, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(host + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

func layerOf(t *testing.T, repo *remote.Repository, desc ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	raw, err := content.FetchAll(context.Background(), repo, desc)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m.Layers[0]
}

func TestSignedPushIsCosignsFormat(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	key := newP256(t)
	c := sigClient(t, blobber.WithSigner(keySigner(t, key)))
	desc, err := c.Push(ctx, reg.Host()+"/sig/format:v1", signedTree)
	if err != nil {
		t.Fatal(err)
	}
	repo := repository(t, reg.Host(), "sig/format")
	// Distribution has no referrers API: the referrers tag schema is used.
	tagDesc, err := repo.Resolve(ctx, "sha256-"+desc.Digest.Encoded())
	if err != nil {
		t.Fatalf("no referrers tag: %v", err)
	}
	if tagDesc.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("referrers tag is a %s", tagDesc.MediaType)
	}
	var found []ocispec.Descriptor
	err = repo.Referrers(ctx, desc, blobber.BundleMediaType, func(r []ocispec.Descriptor) error {
		found = append(found, r...)
		return nil
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("referrers: %v, %v", found, err)
	}
	raw, err := content.FetchAll(ctx, repo, found[0])
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.ArtifactType != blobber.BundleMediaType:
		t.Errorf("artifactType %q", m.ArtifactType)
	case m.Config.MediaType != ocispec.MediaTypeEmptyJSON:
		t.Errorf("config %q", m.Config.MediaType)
	case len(m.Layers) != 1 || m.Layers[0].MediaType != blobber.BundleMediaType:
		t.Errorf("layers %v", m.Layers)
	case m.Subject == nil || m.Subject.Digest != desc.Digest:
		t.Errorf("subject %v, want %s", m.Subject, desc.Digest)
	case m.Annotations["dev.sigstore.bundle.content"] != "dsse-envelope",
		m.Annotations["dev.sigstore.bundle.predicateType"] != blobber.CosignSignPredicateType,
		m.Annotations[ocispec.AnnotationCreated] == "":
		t.Errorf("annotations %v", m.Annotations)
	}
	bundle, err := content.FetchAll(ctx, repo, m.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		MediaType    string
		DSSEEnvelope struct{ Payload, PayloadType string }
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	want := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + desc.Digest.Encoded() +
		`"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`
	if b.MediaType != blobber.BundleMediaType || b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" || string(payload) != want {
		t.Errorf("bundle %s\npayload %s\nwant    %s", b.MediaType, payload, want)
	}
}

func TestVerifiedOpenAndPull(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	key := newP256(t)
	ref := reg.Host() + "/sig/ok:v1"
	if _, err := sigClient(t, blobber.WithSigner(keySigner(t, key))).Push(ctx, ref, signedTree); err != nil {
		t.Fatal(err)
	}
	c := sigClient(t, blobber.WithVerifier(keyVerifier(t, key)))
	wantSignedContent(t, c, ref)
	if _, err := c.Pull(ctx, ref, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	desc, sigs, err := c.Verify(ctx, ref)
	if err != nil || len(sigs) != 1 || sigs[0].Signer != "key "+signing.KeyID(key.Public()) {
		t.Fatalf("Verify: %v %+v %v", desc, sigs, err)
	}
	// Signing again (blobber sign) adds a second signature; either verifies.
	other := newP256(t)
	if _, err := sigClient(t, blobber.WithSigner(keySigner(t, other))).Sign(ctx, ref); err != nil {
		t.Fatal(err)
	}
	_, sigs, err = sigClient(t).Signatures(ctx, ref)
	if err != nil || len(sigs) != 2 {
		t.Fatalf("Signatures: %+v %v", sigs, err)
	}
	for _, k := range []*ecdsa.PrivateKey{key, other} {
		if _, _, err := sigClient(t, blobber.WithVerifier(keyVerifier(t, k))).Verify(ctx, ref); err != nil {
			t.Errorf("key %s: %v", signing.KeyID(k.Public()), err)
		}
	}
}

// attachBundle attaches bundle to desc as a signature, as an attacker
// with push access could.
func attachBundle(t *testing.T, repo *remote.Repository, desc ocispec.Descriptor, bundle []byte) {
	t.Helper()
	ctx := context.Background()
	bd := content.NewDescriptorFromBytes(blobber.BundleMediaType, bundle)
	if err := repo.Push(ctx, bd, bytes.NewReader(bundle)); err != nil {
		t.Fatal(err)
	}
	_, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, blobber.BundleMediaType, oras.PackManifestOptions{
		Subject: &desc, Layers: []ocispec.Descriptor{bd},
		ManifestAnnotations: map[string]string{"dev.sigstore.bundle.content": "dsse-envelope"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerificationFailuresDownloadNothing(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	key, wrong := newP256(t), newP256(t)
	signer := keySigner(t, key)
	push := func(name string, tree fstest.MapFS, opts ...blobber.Option) ocispec.Descriptor {
		desc, err := sigClient(t, opts...).Push(ctx, reg.Host()+"/"+name+":v1", tree)
		if err != nil {
			t.Fatal(err)
		}
		return desc
	}
	push("fail/unsigned", signedTree)
	push("fail/wrongkey", signedTree, blobber.WithSigner(keySigner(t, wrong)))

	// A signature of another artifact, attached to this one.
	otherDesc := push("fail/other", fstest.MapFS{"b": {Data: []byte("other")}}, blobber.WithSigner(signer))
	otherBundle, err := signer.Sign(ctx, otherDesc)
	if err != nil {
		t.Fatal(err)
	}
	desc := push("fail/another", signedTree)
	attachBundle(t, repository(t, reg.Host(), "fail/another"), desc, otherBundle)

	// A bundle whose signature has been tampered with.
	desc = push("fail/tampered", signedTree)
	good, err := signer.Sign(ctx, desc)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(good, &b); err != nil {
		t.Fatal(err)
	}
	sig := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
	raw, _ := base64.StdEncoding.DecodeString(sig["sig"].(string))
	raw[len(raw)-3] ^= 1
	sig["sig"] = base64.StdEncoding.EncodeToString(raw)
	tampered, _ := json.Marshal(b)
	attachBundle(t, repository(t, reg.Host(), "fail/tampered"), desc, tampered)

	// A message signature, as the original Blobber made: no DSSE envelope.
	desc = push("fail/nodsse", signedTree)
	delete(b, "dsseEnvelope")
	b["messageSignature"] = map[string]any{"messageDigest": map[string]any{"algorithm": "SHA2_256", "digest": "AAAA"}, "signature": "AAAA"}
	nodsse, _ := json.Marshal(b)
	attachBundle(t, repository(t, reg.Host(), "fail/nodsse"), desc, nodsse)

	proxy := reg.CountingProxy(t)
	seen := watchRequests(proxy)
	c := sigClient(t, blobber.WithVerifier(keyVerifier(t, key)))
	for _, tc := range []struct{ name, want string }{
		{"fail/unsigned", "has no signature"},
		{"fail/wrongkey", "wrong key"},
		{"fail/another", "the signature is for [sha256:" + otherDesc.Digest.Encoded() + "]"},
		{"fail/tampered", "does not verify"},
		{"fail/nodsse", "bundle does not contain a DSSE envelope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := proxy.Host() + "/" + tc.name + ":v1"
			manifest, _, err := sigClient(t).Signatures(ctx, ref) // the layer's digest, for the check below
			if err != nil {
				t.Fatal(err)
			}
			layer := layerOf(t, repository(t, reg.Host(), tc.name), manifest)
			before := len(seen())
			_, err = c.Open(ctx, ref)
			if !errors.Is(err, blobber.ErrSignature) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v; want ErrSignature saying %q", err, tc.want)
			}
			if tc.name == "fail/unsigned" && !errors.Is(err, blobber.ErrUnsigned) {
				t.Errorf("not ErrUnsigned: %v", err)
			}
			_, err = c.Pull(ctx, ref, t.TempDir()+"/out")
			if !errors.Is(err, blobber.ErrSignature) {
				t.Fatalf("Pull: %v", err)
			}
			for _, r := range seen()[before:] {
				if strings.Contains(r, layer.Digest.String()) {
					t.Errorf("the layer was requested: %s", r)
				}
			}
			if _, _, err := c.Verify(ctx, ref); !errors.Is(err, blobber.ErrSignature) {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// wantSignedContent opens ref with c, which verifies its signature, and
// checks the file every signing test pushes.
func wantSignedContent(t *testing.T, c *blobber.Client, ref string) {
	t.Helper()
	img, err := c.Open(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	data, err := img.ReadFile("a.txt")
	img.Close()
	if err != nil || string(data) != "signed content\n" {
		t.Fatalf("%q, %v", data, err)
	}
}
