package blobber

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
)

// CopyFile writes the artifact's file name to the path dst, fetching only
// its chunks and verifying each, and writes it as Pull would: the same
// permission bits (see DiskPerm), and content that reaches dst only whole,
// through a temporary file beside it that then replaces dst. A copy that
// fails leaves dst as it was and no temporary behind. Symlinks inside the
// artifact are followed; the directory that holds dst must exist.
func (img *Image) CopyFile(ctx context.Context, name, dst string) error {
	e, err := img.lookup("open", name, true)
	if err != nil {
		return err
	}
	switch e.Type {
	case toc.TypeReg:
	case toc.TypeDir:
		return &fs.PathError{Op: "copy", Path: name, Err: errors.New("is a directory")}
	default:
		return &fs.PathError{Op: "copy", Path: name, Err: ErrUnsupportedEntry}
	}
	err = extract.WriteOne(dst, e.Mode, e.Size, func(f io.WriterAt) error {
		_, err := img.WriteFileTo(img.client.opts.meter("copy", e.Size).writer(ctxWriter{ctx, io.NewOffsetWriter(f, 0)}), name)
		return err
	})
	return classify(err)
}

// ctxWriter stops a copy once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.w.Write(p)
}
