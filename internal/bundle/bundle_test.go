package bundle

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// envelope is a bundle with a DSSE envelope of payload type pt around stmt.
func envelope(t *testing.T, pt string, stmt any) []byte {
	t.Helper()
	payload, err := json.Marshal(stmt)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(map[string]any{
		"mediaType":    MediaType,
		"dsseEnvelope": map[string]string{"payloadType": pt, "payload": base64.StdEncoding.EncodeToString(payload)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func statementAbout(dgst digest.Digest, predicateType string) map[string]any {
	return map[string]any{
		"_type":         InTotoStatementType,
		"subject":       []any{map[string]any{"digest": map[string]string{dgst.Algorithm().String(): dgst.Encoded()}}},
		"predicateType": predicateType,
	}
}

func TestCheck(t *testing.T) {
	signed := digest.FromString("the manifest")
	other := digest.FromString("another manifest")
	for _, tc := range []struct {
		name    string
		raw     []byte
		wantErr string // "" for a bundle Check accepts
	}{
		{"cosign signature of the manifest", envelope(t, InTotoPayloadType, statementAbout(signed, CosignSignPredicateType)), ""},
		{"another manifest's signature", envelope(t, InTotoPayloadType, statementAbout(other, CosignSignPredicateType)), "the signature is for [" + other.String() + "]"},
		{"another predicate", envelope(t, InTotoPayloadType, statementAbout(signed, "https://slsa.dev/provenance/v1")), "predicate type is"},
		{"another payload type", envelope(t, "text/plain", statementAbout(signed, CosignSignPredicateType)), "DSSE payload type is"},
		{"no envelope", []byte(`{"mediaType":"` + MediaType + `"}`), "does not contain a DSSE envelope"},
		{"not JSON", []byte("{"), "malformed bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Check(tc.raw, signed)
			switch {
			case tc.wantErr == "" && (err != nil || st == nil):
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestClaimedSignerOfKey(t *testing.T) {
	raw := []byte(`{"verificationMaterial":{"publicKey":{"hint":"abc"}}}`)
	if got := ClaimedSigner(raw); got != "key abc" {
		t.Fatalf("ClaimedSigner = %q", got)
	}
	if got := ClaimedSigner([]byte("{")); got != "?" {
		t.Fatalf("ClaimedSigner of malformed JSON = %q", got)
	}
}
