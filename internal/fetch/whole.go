package fetch

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/errdef"
)

// ErrDigestMismatch: a blob downloaded whole does not match its digest.
var ErrDigestMismatch = errdef.ErrDigestMismatch

// errClosed: a read of a blob after Close, which no retry mends.
var errClosed = errors.New("blob closed")

// wholeBlob is the blob kept in a temporary file after the registry
// answered a range request with all of it (200 instead of 206): without
// it every later range would download the blob from its start again, so
// the first such answer is read to its end, checked against the blob's
// digest, and every read is served from the file from then on.
type wholeBlob struct {
	mu      sync.Mutex
	running chan struct{} // closed when the download under way ends; nil when none is
	file    *os.File      // set once the download succeeded
	err     error         // set once it failed for good (wrong size or digest)
	closed  bool
}

// WithDigest sets the digest a blob downloaded whole is checked against
// (see wholeBlob); without it only its size is.
func (b *Blob) WithDigest(d digest.Digest) *Blob {
	b.digest = d
	return b
}

// Close closes the responses left open (see ReadAhead) and removes the
// temporary file of a blob downloaded whole.
func (b *Blob) Close() error {
	b.ahead.close()
	w := &b.whole
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.drop()
}

// drop removes the temporary file; w.mu is held.
func (w *wholeBlob) drop() error {
	if w.file == nil {
		return nil
	}
	err := errors.Join(w.file.Close(), os.Remove(w.file.Name()))
	w.file, w.err = nil, errClosed
	return err
}

// fromWhole serves [off, off+n) from the downloaded blob once there is
// one (ok), after waiting for a download under way.
func (b *Blob) fromWhole(off, n int64) (rc io.ReadCloser, ok bool, err error) {
	w := &b.whole
	w.mu.Lock()
	running := w.running
	w.mu.Unlock()
	if running != nil {
		select {
		case <-running:
		case <-b.ctx.Done():
			return nil, true, b.ctx.Err()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.err != nil:
		return nil, true, w.err
	case w.file != nil:
		return io.NopCloser(io.NewSectionReader(w.file, off, n)), true, nil
	case running != nil:
		// The download it waited for failed (the connection dropped):
		// the caller's next attempt starts another.
		return nil, true, errors.New("the download of the whole blob failed")
	}
	return nil, false, nil
}

// adoptWhole takes body, the whole blob sent in answer to a range request:
// the first such answer is downloaded into the temporary file while other
// readers wait; any other is dropped at once. It returns [off, off+n) of
// the downloaded blob.
func (b *Blob) adoptWhole(body io.ReadCloser, off, n int64) (io.ReadCloser, error) {
	w := &b.whole
	w.mu.Lock()
	if w.running != nil || w.file != nil || w.err != nil {
		w.mu.Unlock()
		body.Close()
	} else {
		done := make(chan struct{})
		w.running = done
		w.mu.Unlock()
		f, err := b.download(body)
		w.mu.Lock()
		w.running = nil
		w.file = f
		if errors.Is(err, ErrDigestMismatch) {
			w.err = err
		}
		if w.closed {
			_ = w.drop() // closed during the download
		}
		close(done)
		w.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	rc, ok, err := b.fromWhole(off, n)
	if !ok {
		err = errors.New("the download of the whole blob failed")
	}
	return rc, err
}

// download copies body, the whole blob, into a temporary file and checks
// its size and digest.
func (b *Blob) download(body io.ReadCloser) (_ *os.File, err error) {
	defer body.Close()
	f, err := os.CreateTemp("", "blobber-blob-*")
	if err != nil {
		return nil, fmt.Errorf("the registry ignores Range requests, and the blob cannot be kept whole: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	got, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, b.size+1))
	if err != nil {
		return nil, fmt.Errorf("downloading the whole blob (the registry ignores Range requests): %w", err)
	}
	if got != b.size {
		return nil, fmt.Errorf("the registry ignores Range requests and sent a blob of %d bytes or more, not %d: %w", got, b.size, ErrDigestMismatch)
	}
	if b.digest != "" && b.digest.Algorithm() == digest.SHA256 {
		if sum := digest.NewDigest(digest.SHA256, h); sum != b.digest {
			return nil, fmt.Errorf("the registry ignores Range requests and sent a blob whose digest is %s, not %s: %w", sum, b.digest, ErrDigestMismatch)
		}
	}
	return f, nil
}
