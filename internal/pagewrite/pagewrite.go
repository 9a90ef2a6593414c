// Package pagewrite writes large buffers to files in pieces.
//
// On this project's 2-core KVM machines, one write(2) of a chunk-sized
// buffer into a new file cost several times the system time of the same
// buffer written Piece bytes at a time, nearly all of it in the kernel's
// copy into the page cache (perf: rep_movs_alternative), when memory freed
// by deleted files was there to reuse; a pull's system time fell with it
// (BENCHMARKS.md, writes of at most 256 KiB). The likely cause: a large
// write lets ext4 give the file large folios, carved from blocks of free
// memory that the guest has reported to the host (virtio-balloon free page
// reporting), which the host must back again when they are first touched.
// Reads showed no such difference.
package pagewrite

import "io"

// Piece is the most bytes handed to the kernel in one write.
const Piece = 256 << 10

// WriteAt writes p to w at off, Piece bytes at a time.
func WriteAt(w io.WriterAt, p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		end := min(done+Piece, len(p))
		n, err := w.WriteAt(p[done:end], off+int64(done))
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// Write writes p to w, Piece bytes at a time.
func Write(w io.Writer, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		end := min(done+Piece, len(p))
		n, err := w.Write(p[done:end])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}
