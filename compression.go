package blobber

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
