// Package layer builds the eStargz blob of a file tree: a gzip (or zstd)
// tar in which every chunk of every file is an independent compressed
// member, followed by a table of contents (TOC) and a footer, so that a
// reader can list the tree and fetch one file without the rest.
//
// The build is a pipeline: a walker turns the tree into tar bytes cut at
// chunk boundaries, several workers compress the pieces in parallel, and an
// ordered writer puts them back in sequence while it records offsets, hashes
// the blob and renders the TOC entry by entry into a spool, a temporary file
// once it is large. Memory is bounded by the number of pieces in flight, not
// by the size of the tree: even the tar headers of a long run of entries
// without content (empty files, directories, symlinks) are cut into pieces
// of about a megabyte.
package layer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"time"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/compression"
)

// DefaultChunkSize is the largest piece of a file that is compressed on its
// own; it is also the granularity of a selective read.
const DefaultChunkSize = 4 << 20

// Options tune a build. The zero value is usable.
type Options struct {
	Compression compression.Compression // gzip by default
	Level       compression.Level       // the compression's default when ""
	ChunkSize   int                     // DefaultChunkSize when 0
	Workers     int                     // runtime.GOMAXPROCS(0) when 0
	// KeepModTimes records the files' own modification times; by default
	// every entry gets the Unix epoch so the same tree always gives the
	// same blob.
	KeepModTimes bool
	// Progress, if set, is told how many bytes of file content were read.
	Progress func(n int64)
	// Listed, if set, is told of every entry of the tree, the root (".")
	// first, in walk order, with what the build found it to be: as the
	// walk listed it, or, for a file the build read, as the file was when
	// opened, just before it was read. A caller that fingerprinted the
	// tree before the build learns from it, without a walk of its own,
	// whether the build read the tree in that state.
	Listed func(name string, info fs.FileInfo)
	// TempDir holds the table of contents while the tree is walked, when
	// it outgrows memory; os.TempDir() when empty.
	TempDir string

	buffers *buildBuffers // the build's own when nil; set by the tests
	budget  *buildBudget  // the build's own when nil; see ShareMemory
	codec   codec         // the build's own when nil; see ShareMemory
}

// Result describes a built blob.
type Result struct {
	Digest           digest.Digest // of the compressed blob
	Size             int64         // of the compressed blob
	TOCDigest        digest.Digest // of the TOC JSON, for the toc.digest annotation
	DiffID           digest.Digest // of the uncompressed tar
	UncompressedSize int64
	Entries          int // files, directories and links in the tree
}

// Build writes the eStargz blob of fsys to w.
func Build(ctx context.Context, fsys fs.FS, w io.Writer, opts Options) (*Result, error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	comp := opts.codec
	if comp == nil {
		var err error
		if comp, err = newCodec(opts.Compression, opts.Level, opts.TempDir); err != nil {
			return nil, err
		}
	}
	_, canStream := comp.(streamer)
	toc := newTOCWriter(opts.TempDir)
	defer toc.close()

	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan *batch, opts.Workers)
	compressed := make(chan *batch, opts.Workers)

	diffHash := sha256.New()
	// Batches in flight are bounded by their bytes, whatever the number of
	// workers or the size of the tree, and by their number (see
	// buildBudget).
	budget := opts.budget
	if budget == nil {
		budget = newBuildBudget(opts.ChunkSize, opts.Workers)
	}
	buffers := opts.buffers
	if buffers == nil {
		buffers = newBuildBuffers(budget.limit, comp.held())
	}
	wk := &walker{
		budget:    budget,
		buffers:   buffers.content,
		arenas:    buffers.arenas,
		fsys:      fsys,
		chunkSize: opts.ChunkSize,
		keepTimes: opts.KeepModTimes,
		canStream: canStream,
		progress:  opts.Progress,
		listed:    opts.Listed,
		epoch:     time.Unix(0, 0).UTC(),
		diffHash:  diffHash,
		out:       batches,
	}
	g.Go(func() error {
		defer close(batches)
		return wk.walk(ctx)
	})

	workers, wctx := errgroup.WithContext(ctx)
	for range opts.Workers {
		workers.Go(func() error { return compressBatches(wctx, comp, buffers, batches, compressed) })
	}
	g.Go(func() error {
		defer close(compressed)
		return workers.Wait()
	})

	blobHash := sha256.New()
	out := &countingWriter{w: io.MultiWriter(w, blobHash)}
	ow := &orderedWriter{out: out, budget: budget, buffers: buffers, toc: toc, codec: comp}
	g.Go(func() error { return ow.run(ctx, compressed) })

	if err := g.Wait(); err != nil {
		return nil, err
	}

	if err := writeEndOfArchive(out, comp, diffHash); err != nil {
		return nil, fmt.Errorf("writing layer: %w", err)
	}
	// The TOC goes last, after every chunk offset is known.
	counting := &countingWriter{w: diffHash}
	tocDigest, err := toc.finish(out, out.n, comp, counting)
	if err != nil {
		return nil, fmt.Errorf("writing table of contents: %w", err)
	}
	return &Result{
		Digest:           digest.NewDigest(digest.SHA256, blobHash),
		Size:             out.n,
		TOCDigest:        tocDigest,
		DiffID:           digest.NewDigest(digest.SHA256, diffHash),
		UncompressedSize: wk.uncompressed + int64(len(endOfArchive)) + counting.n,
		Entries:          wk.entries,
	}, nil
}

// endOfArchive is the two zero blocks that end a tar stream.
var endOfArchive = make([]byte, 2*tarBlock)

// writeEndOfArchive ends the tar stream, in a member of its own, before the
// TOC, as estargz's lossless writer leaves a tar's end: a plain tar reader
// (archive/tar, GNU tar, crane export | tar -x) then stops there and sees
// exactly the tree, not the TOC's stargz.index.json after it. eStargz
// readers find the TOC from the footer and never look at this member.
func writeEndOfArchive(w io.Writer, c codec, diffHash io.Writer) error {
	var compressed bytes.Buffer
	if err := c.compress(&compressed, endOfArchive); err != nil {
		return err
	}
	if _, err := diffHash.Write(endOfArchive); err != nil {
		return err
	}
	_, err := w.Write(compressed.Bytes())
	return err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
