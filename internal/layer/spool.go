package layer

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// spoolMemory is how much of a spool stays in memory; the rest goes to a
// temporary file. A variable so that tests can make spools spill.
var spoolMemory = 1 << 20

// spool holds data whose size must be known before it is written out (the
// TOC JSON, the compressed zstd TOC): the first bytes in memory, all of them
// in a temporary file once there are more than spoolMemory.
type spool struct {
	dir     string // of the temporary file; os.TempDir() when empty
	f       *os.File
	flushed int64  // bytes in f
	buf     []byte // bytes after those in f
}

func (s *spool) size() int64 { return s.flushed + int64(len(s.buf)) }

func (s *spool) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	if len(s.buf) >= spoolMemory {
		if err := s.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (s *spool) flush() error {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "blobber-toc-*")
		if err != nil {
			return fmt.Errorf("spooling the table of contents: %w", err)
		}
		s.f = f
	}
	if _, err := s.f.Write(s.buf); err != nil {
		return fmt.Errorf("spooling the table of contents: %w", err)
	}
	s.flushed += int64(len(s.buf))
	s.buf = s.buf[:0]
	return nil
}

// writeAt overwrites bytes already written.
func (s *spool) writeAt(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > s.size() {
		return fmt.Errorf("spool: overwrite of [%d, %d) outside [0, %d)", off, off+int64(len(p)), s.size())
	}
	if inFile := min(int64(len(p)), s.flushed-off); inFile > 0 {
		if _, err := s.f.WriteAt(p[:inFile], off); err != nil {
			return fmt.Errorf("spooling the table of contents: %w", err)
		}
		p, off = p[inFile:], off+inFile
	}
	if len(p) > 0 {
		copy(s.buf[off-s.flushed:], p)
	}
	return nil
}

// reader reads everything written so far.
func (s *spool) reader() io.Reader {
	if s.f == nil {
		return bytes.NewReader(s.buf)
	}
	return io.MultiReader(io.NewSectionReader(s.f, 0, s.flushed), bytes.NewReader(s.buf))
}

// close removes the temporary file.
func (s *spool) close() error {
	s.buf = nil
	if s.f == nil {
		return nil
	}
	name := s.f.Name()
	err := s.f.Close()
	s.f = nil
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
