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

// Level is how hard a layer's members are compressed: "1" (fastest) to "9"
// (smallest) for gzip; "fastest", "default", "better" or "best" for zstd.
// The empty level is the compression's default: gzip's 5 (what
// klauspost/compress makes of gzip.DefaultCompression) or zstd's "default".
// The same tree gives a different blob at each level.
type Level string

// LevelAnnotation is the layer descriptor's annotation that records the
// level a layer was built at, since its digest depends on it.
const LevelAnnotation = "dev.blobber.layer.compression-level"

const defaultGzipLevel Level = "5"

// ZstdLevels are zstd's levels, fastest first.
var ZstdLevels = []Level{"fastest", "default", "better", "best"}

// CheckLevelName refuses a name that is no level of any compression.
func CheckLevelName(l Level) error {
	if l == "" || gzipLevel(l) > 0 || zstdLevelKnown(l) {
		return nil
	}
	return fmt.Errorf("compression level must be 1 to 9 (gzip) or fastest, default, better, best (zstd), not %q", string(l))
}

// CheckLevel refuses a level that is not one of c's.
func (c Compression) CheckLevel(l Level) error {
	if err := CheckLevelName(l); err != nil {
		return err
	}
	switch {
	case l == "":
		return nil
	case c == Zstd && !zstdLevelKnown(l):
		return fmt.Errorf("compression level %q is not a zstd level (fastest, default, better, best)", string(l))
	case c != Zstd && gzipLevel(l) == 0:
		return fmt.Errorf("compression level %q is not a gzip level (1 to 9)", string(l))
	}
	return nil
}

// Effective is the level a layer is built at: l, or c's default for "".
// Two levels with the same Effective build the same blob.
func (c Compression) Effective(l Level) Level {
	if l != "" {
		return l
	}
	if c == Zstd {
		return "default"
	}
	return defaultGzipLevel
}

// GzipLevel is l as a gzip level (1 to 9), the default's for "".
func GzipLevel(l Level) int {
	if l == "" {
		return gzipLevel(defaultGzipLevel)
	}
	return gzipLevel(l)
}

// gzipLevel is l's number, or 0 when l is not "1" to "9".
func gzipLevel(l Level) int {
	if len(l) == 1 && l[0] >= '1' && l[0] <= '9' {
		return int(l[0] - '0')
	}
	return 0
}

func zstdLevelKnown(l Level) bool {
	for _, z := range ZstdLevels {
		if l == z {
			return true
		}
	}
	return false
}
