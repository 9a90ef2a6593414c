package layer

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"time"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
)

// batchTarget is how much uncompressed data goes to a worker at once: small
// files are grouped so that the hand-off costs less than the compression.
const batchTarget = 1 << 20

// member is the uncompressed content of one compressed member of the blob.
type member struct {
	data []byte
	// chunk is the TOC entry of the file chunk that opens this member; nil
	// for a member that holds only tar headers.
	chunk    *estargz.TOCEntry
	chunkLen int
	// whole is the file's entry when chunk is all of it, so its digest is
	// the chunk digest.
	whole *estargz.TOCEntry
	// compressedEnd is where the member ends in its batch's compressed
	// bytes; it starts where the member before it that was not streamed
	// ends.
	compressedEnd int
	// streamed is set, with gzip, on the pieces of a member that the
	// headers of a long run of entries without content would make too big
	// to hold whole: the ordered writer compresses them in order as one
	// stream, which makes the bytes compressing the whole member would.
	// more is set on all pieces but the last. (With zstd such a member is
	// cut into members of their own.)
	streamed, more bool
	// shared is set on a member carved from its batch's arena.
	shared bool
}

type batch struct {
	seq     int
	members []*member
	size    int
	// toc holds the TOC entries whose chunks, if any, are in this batch,
	// in blob order; fileDigests the digests of the files in several
	// chunks that end in it, which their entries do not carry (they stand
	// before the chunks).
	toc         []*estargz.TOCEntry
	fileDigests []string
	// compressed holds the members that are not streamed, compressed, in
	// order.
	compressed []byte
	// arenas hold the members that are shared (see newMember).
	arenas [][]byte
	cost   int64 // taken from the build's budget until written
}

// walker turns a tree into members in blob order, cutting a new member at
// every chunk as the eStargz format asks, and feeds the diffID hash.
type walker struct {
	fsys      fs.FS
	chunkSize int
	keepTimes bool
	canStream bool // the codec can compress a member in pieces
	progress  func(n int64)
	listed    func(name string, info fs.FileInfo) // Options.Listed
	epoch     time.Time
	diffHash  hash.Hash
	out       chan<- *batch
	budget    *buildBudget // bounds the bytes of the batches in flight
	buffers   *bufferPool
	arenas    *bufferPool

	entries      int
	toc          []*estargz.TOCEntry // for the next batch sent
	fileDigests  []string            // for the next batch sent
	uncompressed int64
	cur          *member
	pending      *batch
	batchArenas  [][]byte // the pending batch's
	arena        []byte   // the last of them, its members' bytes so far
	seq          int
	tw           *tar.Writer
	header       tar.Header // the entry's, which WriteHeader copies

	// The last modification time rendered for the TOC: every entry's,
	// unless the build keeps times.
	lastModTime     time.Time
	lastModTime3339 string
}

func (w *walker) modTime3339(t time.Time) string {
	if w.lastModTime3339 == "" || !t.Equal(w.lastModTime) {
		w.lastModTime, w.lastModTime3339 = t, t.Format(time.RFC3339)
	}
	return w.lastModTime3339
}

func (w *walker) walk(ctx context.Context) error {
	w.tw = tar.NewWriter(memberSink{w})
	err := fs.WalkDir(w.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if name == "." {
			if w.listed != nil {
				info, err := d.Info()
				if err != nil {
					return err
				}
				w.listed(name, info)
			}
			return nil
		}
		return w.add(ctx, name, d)
	})
	if err != nil {
		return err
	}
	w.seal()
	return w.send(ctx)
}

func (w *walker) add(ctx context.Context, name string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	h := &w.header
	*h = tar.Header{
		Name:    name,
		Mode:    tarMode(info.Mode()),
		ModTime: w.epoch,
	}
	if w.keepTimes {
		h.ModTime = info.ModTime().UTC().Truncate(time.Second)
	}
	ent := &estargz.TOCEntry{Mode: h.Mode, ModTime3339: w.modTime3339(h.ModTime)}
	switch mode := info.Mode(); {
	case mode.IsDir():
		h.Typeflag, h.Name, ent.Type = tar.TypeDir, name+"/", "dir"
	case mode&fs.ModeSymlink != 0:
		target, err := fs.ReadLink(w.fsys, name)
		if err != nil {
			return err
		}
		// The check walk judged the link it read; this one may have
		// been swapped in since, and is the one published.
		if why, err := linkRefusal(w.fsys, name, target); err != nil || why != "" {
			if err != nil {
				return err
			}
			refused := &UnsupportedError{Links: 1}
			refused.Add(fmt.Sprintf("%s -> %s (%s)", name, target, why))
			return refused
		}
		h.Typeflag, h.Linkname, ent.Type, ent.LinkName = tar.TypeSymlink, target, "symlink", target
	case mode.IsRegular():
		h.Typeflag, h.Size, ent.Type, ent.Size = tar.TypeReg, info.Size(), "reg", info.Size()
	default:
		return fmt.Errorf("%s: %w %s", name, ErrUnsupported, mode.Type())
	}
	ent.Name = h.Name
	w.entries++
	if err := w.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if ent.Type == "reg" && ent.Size > 0 {
		if err := w.addContent(ctx, name, info, ent); err != nil {
			return err
		}
	} else {
		if w.listed != nil {
			w.listed(name, info)
		}
		if ent.Type == "reg" {
			ent.Digest = emptyDigest
		}
		w.toc = append(w.toc, ent)
	}
	if err := w.tw.Flush(); err != nil {
		return err
	}
	if w.cur != nil && len(w.cur.data)-w.cur.chunkLen >= batchTarget {
		return w.cut(ctx)
	}
	return nil
}

// cut ends the current member, which the tar headers of a run of entries
// without content have made long, so that no member is held whole however
// long the run. With a codec that can stream (gzip), the member goes on in a
// piece that is compressed in the same stream, which makes the bytes of the
// uncut member. Zstd cannot do that (see gzipCodec.stream), so the run goes
// on in a member of its own, a frame that no TOC entry points at: only
// members that start with a chunk need to be found, and a plain zstd
// decoder reads consecutive frames as one stream.
func (w *walker) cut(ctx context.Context) error {
	w.cur.streamed, w.cur.more = w.canStream, w.canStream
	w.seal()
	w.cur = w.newMember(batchTarget + 64<<10)
	w.cur.streamed = w.canStream
	return w.sendIfFull(ctx)
}

var emptyDigest = digest.FromBytes(nil).String()

// addContent copies a file's bytes, one member per chunk. The TOC entry of
// each chunk goes with the batch of its member, which sets its offset and
// digest; that of a file in several chunks gets a placeholder digest, and
// its real digest follows with the batch of the last chunk. listed is what
// the walk found at name: the file opened must be that one.
func (w *walker) addContent(ctx context.Context, name string, listed fs.FileInfo, file *estargz.TOCEntry) error {
	f, err := openRegular(w.fsys, name)
	if err != nil {
		return err
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return err
	}
	if !sameFile(listed, opened) {
		return fmt.Errorf("%s: %w", name, ErrChanged)
	}
	if w.listed != nil {
		// What the file was when its reading began: a write after this
		// changes its change time, so a fingerprint of what was read is
		// one of a state the tree no longer has.
		w.listed(name, opened)
	}

	var src io.Reader = f
	var fileHash hash.Hash
	multiChunk := file.Size > int64(w.chunkSize)
	if multiChunk {
		fileHash = sha256.New()
		src = io.TeeReader(f, fileHash)
		file.Digest = digestPlaceholder
	}
	ent := file
	for written := int64(0); written < file.Size; {
		n := min(int64(w.chunkSize), file.Size-written)
		if n == int64(w.chunkSize) {
			ent.ChunkSize = n
		}
		ent.ChunkOffset = written
		w.seal()
		if err := w.sendIfFull(ctx); err != nil {
			return err
		}
		// Headroom for the padding and the headers of the entries that
		// follow, which share this member: a few for a small file (a batch
		// holds hundreds of them), more after a big chunk, which would
		// otherwise be copied to grow.
		headroom := min(64<<10, 4*tarBlock+int(n)/16)
		w.cur = w.newMember(int(n) + headroom)
		w.cur.chunk, w.cur.chunkLen = ent, int(n)
		if !multiChunk {
			w.cur.whole = file
		}
		w.toc = append(w.toc, ent)
		// Read straight into the member, which the tar writer then passes
		// to memberSink unchanged: no copy through a buffer of io.Copy's.
		content := w.cur.data[len(w.cur.data) : len(w.cur.data)+int(n)]
		if _, err := io.ReadFull(src, content); err != nil {
			return fmt.Errorf("%s: reading (did it change during the push?): %w", name, err)
		}
		if _, err := w.tw.Write(content); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		written += n
		if w.progress != nil {
			w.progress(n)
		}
		ent = &estargz.TOCEntry{Name: file.Name, Type: "chunk"}
	}
	if multiChunk {
		w.fileDigests = append(w.fileDigests, digest.NewDigest(digest.SHA256, fileHash).String())
	}
	return nil
}

const tarBlock = 512

// memberSink appends tar bytes to the member being assembled.
type memberSink struct{ w *walker }

func (s memberSink) Write(p []byte) (int, error) {
	if s.w.cur == nil {
		s.w.cur = s.w.newMember(len(p) + 4*tarBlock)
	}
	d := s.w.cur.data
	if len(p) > 0 && cap(d)-len(d) >= len(p) && &d[:len(d)+1][len(d)] == &p[0] {
		// p was read in place, right after the member's bytes.
		s.w.cur.data = d[:len(d)+len(p)]
		return len(p), nil
	}
	s.w.growMember(s.w.cur, len(p))
	s.w.cur.data = append(s.w.cur.data, p...)
	return len(p), nil
}

// seal ends the current member and queues it. A member that a cut left
// empty is dropped, unless it ends a stream.
func (w *walker) seal() {
	m := w.cur
	if m == nil {
		return
	}
	w.cur = nil
	if len(m.data) == 0 && !m.streamed {
		w.buffers.release(m)
		return
	}
	w.claim(m)
	w.diffHash.Write(m.data)
	w.uncompressed += int64(len(m.data))
	if w.pending == nil {
		w.pending = &batch{seq: w.seq}
		w.seq++
	}
	w.pending.members = append(w.pending.members, m)
	w.pending.size += len(m.data)
}

func (w *walker) sendIfFull(ctx context.Context) error {
	if w.pending == nil || w.pending.size < batchTarget {
		return nil
	}
	return w.send(ctx)
}

func (w *walker) send(ctx context.Context) error {
	b := w.pending
	if b == nil {
		if len(w.toc) == 0 && len(w.fileDigests) == 0 {
			return nil
		}
		b = &batch{seq: w.seq}
		w.seq++
	}
	w.pending = nil
	b.arenas, w.batchArenas, w.arena = w.batchArenas, nil, nil
	b.toc, w.toc = w.toc, nil
	b.fileDigests, w.fileDigests = w.fileDigests, nil
	if err := w.budget.acquire(ctx, b); err != nil {
		return err
	}
	select {
	case w.out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tarMode keeps the permission and special bits of mode, as tar stores them.
func tarMode(mode fs.FileMode) int64 {
	m := int64(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}
