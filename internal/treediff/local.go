package treediff

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/toc"
)

// LocalTree is a local directory, read without following a link out of
// it (the root package's Tree, over an os.Root).
type LocalTree interface {
	fs.ReadDirFS
	fs.ReadLinkFS
	// OpenRegular opens a file the walk listed as regular without waiting
	// on what may stand there now (a FIFO swapped in).
	OpenRegular(name string) (fs.File, error)
}

// State is what a previous sync recorded of the files it wrote. The
// comparison asks it first about every local file whose type and size
// match the artifact's, before hashing: with a state that vouches for a
// file, a tree sync wrote is compared from metadata alone.
type State interface {
	// Digest returns the sha256 of the content of the local file at name
	// (slash-separated, from the directory's root) when the state vouches
	// for it from metadata alone: a previous sync wrote it, and info (the
	// file's Lstat now) still matches what was recorded then (inode,
	// size, modification time). ok false sends the file to be hashed.
	Digest(name string, info fs.FileInfo) (d digest.Digest, ok bool)
}

// HashRecorder, when a State implements it too, is told of every local
// file the comparison hashed, with the Lstat it was listed with, so that
// the state can remember it: a file is hashed once, then vouched for.
type HashRecorder interface {
	Hashed(name string, info fs.FileInfo, d digest.Digest)
}

// DirOptions are the choices of CompareDir.
type DirOptions struct {
	State State // nil: every file whose size cannot decide is hashed
	// DiskMode maps an artifact's mode to the one pull writes for it (the
	// umask applied), which is the one the directory should have; nil
	// compares modes as stored.
	DiskMode func(fs.FileMode) fs.FileMode
	// IgnoreModes compares no modes: the system's files have none worth
	// comparing (Windows).
	IgnoreModes bool
}

// CompareDir compares an artifact's table of contents (old) with the
// local directory dir (new). Type, size and mode decide first; a file of
// the same type and size is then asked of opts.State, and hashed only if
// the state cannot vouch for it. A file the table gives no whole-file
// digest is hashed chunk by chunk against its chunks' digests.
func CompareDir(ctx context.Context, ix *toc.Index, dir LocalTree, opts DirOptions) (*Result, error) {
	local := &localSide{tree: dir}
	w := &walker{
		old:         indexSide{ix: ix, mode: opts.DiskMode},
		new:         local,
		ignoreModes: opts.IgnoreModes,
		result:      &Result{},
	}
	w.sameContent = func(ctx context.Context, name string, o, n *node) (bool, error) {
		info := n.ref.(fs.FileInfo)
		if o.entry.Size == 0 {
			n.entry.Digest = o.entry.Digest
			return true, nil
		}
		if opts.State != nil && o.entry.Digest != "" {
			if d, ok := opts.State.Digest(name, info); ok {
				n.entry.Digest = d
				return d == o.entry.Digest, nil
			}
		}
		chunks := o.ref.(*toc.Entry).AppendChunks(nil)
		if o.entry.Digest != "" {
			chunks = nil // the whole-file digest decides
		}
		d, chunksMatch, err := local.hash(ctx, name, chunks)
		if err != nil {
			return false, err
		}
		w.result.Hashed++
		w.result.HashedBytes += info.Size()
		n.entry.Digest = d
		if rec, ok := opts.State.(HashRecorder); ok {
			rec.Hashed(name, info, d)
		}
		if o.entry.Digest == "" {
			return chunksMatch, nil
		}
		return d == o.entry.Digest, nil
	}
	if err := w.walk(ctx, ".", nil, nil); err != nil {
		return nil, err
	}
	return w.result, nil
}

// localSide is the local directory.
type localSide struct {
	tree LocalTree
	buf  []byte
}

func (s *localSide) list(_ context.Context, dir string, _ *node) ([]node, error) {
	des, err := s.tree.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]node, 0, len(des))
	for _, de := range des {
		info, err := de.Info() // Lstat: a link is not followed
		if errors.Is(err, fs.ErrNotExist) {
			continue // gone since the directory was read
		}
		if err != nil {
			return nil, err
		}
		e := Entry{Type: localType(info.Mode()), Mode: permBits(info.Mode())}
		switch e.Type {
		case File:
			e.Size = info.Size()
		case Symlink:
			name := de.Name()
			if dir != "." {
				name = dir + "/" + name
			}
			if e.Target, err = s.tree.ReadLink(name); err != nil {
				return nil, err
			}
		}
		out = append(out, node{name: de.Name(), entry: e, ref: info})
	}
	return out, nil
}

func localType(m fs.FileMode) Type {
	switch {
	case m.IsRegular():
		return File
	case m.IsDir():
		return Dir
	case m&fs.ModeSymlink != 0:
		return Symlink
	case m&fs.ModeCharDevice != 0:
		return Char
	case m&fs.ModeDevice != 0:
		return Block
	case m&fs.ModeNamedPipe != 0:
		return Fifo
	}
	return Other
}

// hash reads the local file name once: its sha256, and, when chunks are
// given, whether each chunk's bytes have that chunk's digest.
func (s *localSide) hash(ctx context.Context, name string, chunks []toc.Chunk) (d digest.Digest, chunksMatch bool, err error) {
	f, err := s.tree.OpenRegular(name)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return "", false, err
	} else if !info.Mode().IsRegular() {
		return "", false, fmt.Errorf("%s is no longer a regular file", name)
	}
	if s.buf == nil {
		s.buf = make([]byte, 1<<20)
	}
	whole := sha256.New()
	var cw *chunkHasher
	w := io.Writer(whole)
	if chunks != nil {
		cw = &chunkHasher{chunks: chunks, h: sha256.New(), match: true}
		w = io.MultiWriter(whole, cw)
	}
	for {
		if err := ctx.Err(); err != nil {
			return "", false, err
		}
		n, rerr := f.Read(s.buf)
		if n > 0 {
			w.Write(s.buf[:n]) // hashes do not fail
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", false, fmt.Errorf("reading %s: %w", name, rerr)
		}
	}
	d = digest.NewDigestFromBytes(digest.SHA256, whole.Sum(nil))
	return d, cw != nil && cw.done(), nil
}

// chunkHasher checks a stream of bytes against a file's chunks, in order.
type chunkHasher struct {
	chunks []toc.Chunk
	h      hash.Hash
	in     int64 // bytes of the current chunk hashed
	match  bool
}

func (c *chunkHasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && c.match {
		if len(c.chunks) == 0 {
			c.match = false // longer than the chunks
			break
		}
		take := min(int64(len(p)), c.chunks[0].Size-c.in)
		c.h.Write(p[:take])
		p, c.in = p[take:], c.in+take
		if c.in == c.chunks[0].Size {
			var sum [sha256.Size]byte
			c.match = [sha256.Size]byte(c.h.Sum(sum[:0])) == c.chunks[0].SHA256
			c.chunks, c.in = c.chunks[1:], 0
			c.h.Reset()
		}
	}
	return n, nil
}

// done tells whether every chunk was seen and matched.
func (c *chunkHasher) done() bool { return c.match && len(c.chunks) == 0 && c.in == 0 }
