package blobber

import (
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/blobber-dev/blobber/internal/toc"
)

// rangeReader is a file of an Image as http.ServeContent reads it: seek to
// where a range starts, read its bytes. Each run of reads streams the
// file's chunks with read-ahead, as file.Read does, but never past the
// end of the range the request asked for, so that a Range request fetches
// only the chunks it covers.
//
// ServeContent reads a request of several ranges in a goroutine of its
// own, which can still be in a read when ServeContent returns (the client
// went away): mu orders that read with Close and failure.
type rangeReader struct {
	mu     sync.Mutex
	img    *Image
	e      *toc.Entry
	off    int64
	ranges []byteRange // what the Range header asks for; hints only
	stream *chunkStream
	err    error // the first read error, for the handler's status
}

var _ io.ReadSeeker = (*rangeReader)(nil)

type byteRange struct{ start, end int64 }

func newRangeReader(img *Image, e *toc.Entry, rangeHeader string) *rangeReader {
	return &rangeReader{img: img, e: e, ranges: parseRanges(rangeHeader, e.Size)}
}

func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.e.Size
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: r.e.Name, Err: fs.ErrInvalid}
	}
	r.off = offset
	return offset, nil
}

func (r *rangeReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.read(p)
}

func (r *rangeReader) read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.off >= r.e.Size {
		return 0, io.EOF
	}
	fresh := false
	if r.stream == nil || r.stream.pos != r.off {
		r.stopStream()
		r.stream = r.img.newChunkStream(r.upTo(r.rangeEnd(r.off)), r.off, 1, false)
		fresh = true
	}
	n, err := r.stream.Read(p)
	r.off += int64(n)
	if err == io.EOF {
		// The stream ends with the range it was started for; a read past
		// that (a request whose Range ServeContent did not honour) starts
		// another.
		r.stopStream()
		if n > 0 {
			return n, nil
		}
		if !fresh {
			return r.read(p)
		}
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		r.err = err
	}
	return n, err
}

// failure is the first read error, if any.
func (r *rangeReader) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops the stream's read-ahead.
func (r *rangeReader) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopStream()
}

func (r *rangeReader) stopStream() {
	if r.stream != nil {
		r.stream.Close()
		r.stream = nil
	}
}

// rangeEnd is where the range holding off ends: the furthest end of the
// asked ranges that hold it, or the file's end.
func (r *rangeReader) rangeEnd(off int64) int64 {
	end := int64(-1)
	for _, br := range r.ranges {
		if br.start <= off && off < br.end {
			end = max(end, br.end)
		}
	}
	if end < 0 {
		return r.e.Size
	}
	return end
}

// upTo is the file's entry as a stream that stops at byte end should see
// it: the same file with its chunks cut after the one holding byte end-1,
// so that read-ahead schedules nothing the range does not need.
func (r *rangeReader) upTo(end int64) *toc.Entry {
	if end >= r.e.Size || end <= 0 {
		return r.e
	}
	return r.e.WithFirstChunks(chunkAt(r.e, end-1) + 1)
}

// parseRanges reads a Range header ("bytes=0-99,200-,-50") into byte
// ranges of a file of size bytes. A header it cannot read gives none: the
// ranges are only hints of how far to read ahead, and ServeContent decides
// what is sent.
func parseRanges(header string, size int64) []byteRange {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return nil
	}
	var out []byteRange
	for part := range strings.SplitSeq(spec, ",") {
		first, last, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var br byteRange
		if first == "" {
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n < 0 {
				return nil
			}
			br = byteRange{max(0, size-n), size}
		} else {
			start, err := strconv.ParseInt(first, 10, 64)
			if err != nil || start < 0 {
				return nil
			}
			br = byteRange{start, size}
			if last != "" {
				end, err := strconv.ParseInt(last, 10, 64)
				if err != nil || end < start {
					return nil
				}
				br.end = min(size, end+1)
			}
		}
		out = append(out, br)
	}
	return out
}
