package blobber

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
)

// patchFromLocal writes e, a file of several chunks whose older version
// DIR holds under the same name, from the chunks of that version that are
// unchanged, and fetches only the others: a change to a few bytes of a
// large file downloads the chunks that hold them. A chunk taken from the
// local file is hashed against the new chunk's digest as it is copied; a
// fetched one is verified as every read is. done is false, with nothing
// written, when no chunk of the local file is the artifact's (the file is
// then fetched whole with the others).
func (s *syncer) patchFromLocal(ctx context.Context, d *extract.Dir, e *toc.Entry) (done bool, err error) {
	if e.Type != toc.TypeReg || e.NumChunks() < 2 {
		return false, nil
	}
	f, err := openNonBlocking(s.root, e.Name)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	local, ok := f.(io.ReaderAt)
	info, err := f.Stat()
	if !ok || err != nil || !info.Mode().IsRegular() {
		return false, nil
	}
	same, hashed := sameChunks(ctx, local, info.Size(), e)
	s.res.Hashed++
	s.res.HashedBytes += hashed
	if !bytes.Contains(same, []byte{1}) {
		return false, ctx.Err()
	}
	out, err := d.CreateFile(e.Name, e.Mode, e.Size, e.ModTime())
	if err != nil {
		return false, err
	}
	var fetched atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, s.img.client.opts.concurrency))
	for i, c := range e.Chunks() {
		g.Go(func() error {
			if same[i] == 1 && copyChunk(gctx, out, local, c) {
				return nil
			}
			if err := gctx.Err(); err != nil {
				return err
			}
			data, err := s.img.fetchChunk(c, nil)
			if err != nil {
				return err
			}
			fetched.Add(s.img.index.Need(c))
			_, err = out.WriteAt(data, c.FileOffset)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		if derr := out.Discard(); derr != nil {
			s.img.client.opts.logger.Debug("discarding a partial file", "file", e.Name, "error", derr)
		}
		return false, err
	}
	s.patchedBytes += fetched.Load()
	return true, out.Commit()
}

// sameChunks tells, chunk by chunk, which of e's chunks the local file of
// size bytes holds at the same offset (1 where it does), and how many
// bytes it hashed to tell.
func sameChunks(ctx context.Context, local io.ReaderAt, size int64, e *toc.Entry) (same []byte, hashed int64) {
	same = make([]byte, e.NumChunks())
	h := sha256.New()
	for i, c := range e.Chunks() {
		if c.FileOffset+c.Size > size || ctx.Err() != nil {
			break
		}
		h.Reset()
		n, err := io.Copy(h, ctxReader{ctx, io.NewSectionReader(local, c.FileOffset, c.Size)})
		hashed += n
		if err == nil && n == c.Size && bytes.Equal(h.Sum(nil), c.SHA256[:]) {
			same[i] = 1
		}
	}
	return same, hashed
}

// copyChunk copies chunk c from the local file into out, and tells whether
// what it copied still has the chunk's digest (the local file may have
// changed since it was hashed; the chunk is then fetched over it).
func copyChunk(ctx context.Context, out io.WriterAt, local io.ReaderAt, c toc.Chunk) bool {
	h := sha256.New()
	w := io.MultiWriter(h, io.NewOffsetWriter(out, c.FileOffset))
	n, err := io.Copy(w, ctxReader{ctx, io.NewSectionReader(local, c.FileOffset, c.Size)})
	return err == nil && n == c.Size && bytes.Equal(h.Sum(nil), c.SHA256[:])
}
