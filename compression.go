package blobber

import "github.com/blobber-dev/blobber/internal/compression"

// Compression is how Push compresses the layer (see WithCompression).
type Compression string

const (
	// Gzip, the default, is readable by every tool
	// (application/vnd.oci.image.layer.v1.tar+gzip).
	Gzip Compression = "gzip"
	// Zstd is faster and smaller (application/vnd.oci.image.layer.v1.tar+zstd).
	Zstd Compression = "zstd"
)

// ParseCompression returns the compression called name, "gzip" or
// "zstd". Any other name is an error that matches ErrInvalidOption.
func ParseCompression(name string) (Compression, error) {
	switch c := Compression(name); c {
	case Gzip, Zstd:
		return c, nil
	}
	return "", invalidOption("compression must be gzip or zstd, not %q", name)
}

// CheckCompressionLevel refuses, as Push would (ErrInvalidOption), a level
// that WithCompressionLevel cannot take with compression c.
func CheckCompressionLevel(c Compression, level string) error {
	if err := compression.Compression(c).CheckLevel(compression.Level(level)); err != nil {
		return invalidOption("%v", err)
	}
	return nil
}
