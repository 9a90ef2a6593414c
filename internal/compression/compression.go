// Package compression names how a layer's members are compressed, for the
// code that writes them (internal/layer) and the code that reads them back
// (internal/toc): one type, so that neither translates the other's.
package compression

import (
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Compression is the compression of a layer's members. The zero value is
// gzip, the default.
type Compression string

const (
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
)

// MediaType is the OCI layer media type of a blob with this compression.
func (c Compression) MediaType() string {
	if c == Zstd {
		return ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.MediaTypeImageLayerGzip
}

// Check refuses a compression blobber cannot write or read.
func (c Compression) Check() error {
	switch c {
	case "", Gzip, Zstd:
		return nil
	}
	return fmt.Errorf("compression must be gzip or zstd, not %q", string(c))
}
