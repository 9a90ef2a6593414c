package blobber

import (
	"bytes"
	"encoding/json"
	"errors"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxSkippedDepth bounds how deeply nested a config value inspect skips
// may be: the decoder keeps a stack entry per level.
const maxSkippedDepth = 64

var errConfigShape = errors.New("the config is not an image config inspect can read")

// configSummary is what inspect shows of an image config.
type configSummary struct {
	platform ocispec.Platform
	diffIDs  []digest.Digest
}

// readConfigSummary reads a config's platform and at most maxDiffIDs
// diffIDs token by token, keeping nothing else: the config comes from the
// registry, and decoding it whole would cost tens of bytes of memory for
// each byte of a config of many small values.
func readConfigSummary(cfg []byte, maxDiffIDs int) (configSummary, error) {
	var s configSummary
	dec := json.NewDecoder(bytes.NewReader(cfg))
	err := readObject(dec, func(key string) error {
		switch key {
		case "os":
			return dec.Decode(&s.platform.OS)
		case "architecture":
			return dec.Decode(&s.platform.Architecture)
		case "variant":
			return dec.Decode(&s.platform.Variant)
		case "os.version":
			return dec.Decode(&s.platform.OSVersion)
		case "rootfs":
			return readObject(dec, func(key string) error {
				if key != "diff_ids" {
					return skipValue(dec)
				}
				var err error
				s.diffIDs, err = readDiffIDs(dec, maxDiffIDs)
				return err
			})
		}
		return skipValue(dec)
	})
	return s, err
}

// readObject calls field for each key of the object that comes next; field
// must consume the key's value.
func readObject(dec *json.Decoder, field func(key string) error) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errConfigShape
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if err := field(key); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

func readDiffIDs(dec *json.Decoder, limit int) ([]digest.Digest, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errConfigShape
	}
	var ids []digest.Digest
	for dec.More() {
		if len(ids) == limit {
			return nil, errConfigShape
		}
		var id digest.Digest
		if err := dec.Decode(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	_, err := dec.Token()
	return ids, err
}

// skipValue consumes the next value without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxSkippedDepth {
				return errConfigShape
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
