// Package pull moves an eStargz layer's data into files: it cuts the
// layer into segments fetched in parallel, decodes and verifies each chunk
// and writes it where it belongs, and hashes the segments in blob order to
// check the whole layer against its digest.
package pull

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
)

// ErrCachedLayerBad is a layer that did not match its digest, or a chunk
// that did not decode, in a first pull through a cache, which dropped what
// it held of the layer: the registry's bytes may be fine, and the caller
// may pull once more (Options.Again).
var ErrCachedLayerBad = fmt.Errorf("cached bytes do not verify: %w", toc.ErrDigestMismatch)

// Artifact is what is pulled: its verified index (merged across its
// layers, see toc.Merge) and its layers, in the order Chunk.Layer counts
// them.
type Artifact struct {
	Index  *toc.Index
	Layers []Layer
}

// Layer is one layer's bytes and the digest they must hash to. Bytes may
// come through a cache; where Data offers the optional methods of
// invalidator and promoter, the puller uses them (see fetchAll).
type Layer struct {
	Data   io.ReaderAt
	Digest digest.Digest
	Size   int64
}

// Options tune one pull.
type Options struct {
	// Concurrency is how many segments are fetched at once.
	Concurrency int
	// Progress, if set, is told of each segment's bytes once hashed.
	Progress func(n int64)
	// Planned, if set, is told by Entries how many bytes its range
	// requests will read, before they start.
	Planned func(total int64)
	// FetchedBytes, if set, counts the bytes fetched from the registry so
	// far: a layer that fails its check although all of it came from
	// there is not the cache's fault.
	FetchedBytes func() int64
	// Again marks the second try of a pull whose cached bytes were bad.
	Again bool
	// DereferenceLinks writes each symlink as what it leads to inside the
	// artifact (see dereferencer), within MaxEntries entries in all.
	DereferenceLinks bool
	MaxEntries       int
}

// Into writes the artifact's entries into dir: directories and empty
// files while the first segments are fetched, then every file's chunks,
// then links. It does not commit dir: the caller does, or aborts it on an
// error.
func Into(ctx context.Context, dir *extract.Dir, a Artifact, opts Options) error {
	p := &puller{art: a, dir: dir, opts: opts}
	// One list of every chunk, sized once: at hundreds of thousands of
	// files, growing it would hold it twice over for a while.
	p.chunks = make([]chunkRef, 0, countChunks(a.Index))
	if err := a.Index.Walk(p.plan); err != nil {
		return err
	}
	deref := newDereferencer(a.Index, dir, opts.MaxEntries)
	if opts.DereferenceLinks {
		// Every link must lead to something before anything is fetched.
		for _, e := range p.links {
			if e.Type != toc.TypeSymlink {
				continue
			}
			if _, err := deref.target(e); err != nil {
				return err
			}
		}
	}
	if err := p.fetchAllBesideDirs(ctx); err != nil {
		return err
	}
	for _, e := range p.links {
		var err error
		switch {
		case e.Type == toc.TypeHardlink:
			err = dir.Link(e.Name, e.LinkName())
		case opts.DereferenceLinks:
			err = deref.link(e)
		default:
			err = dir.Symlink(e.Name, e.LinkName(), e.ModTime())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// puller moves an artifact's data into files.
//
// Every chunk is checked, even where the layer's digest will vouch for the
// bytes: that digest says the bytes are the publisher's, not that the TOC
// describes them truly, and a pull must refuse whatever cat refuses, or a
// signed artifact could show one tree to readers and write another.
type puller struct {
	art    Artifact
	dir    *extract.Dir
	opts   Options
	chunks []chunkRef // in blob order, layer by layer
	// several holds the files of several chunks, set before any is
	// written and only read after: most files have one chunk, and a
	// pointer in every chunkRef would cost each of them a word.
	several map[*toc.Entry]*pullFile
	links   []*toc.Entry
	// size is what the pull holds in flight (see sizingFor); segmentBuffers
	// and chunkBuffers recycle its buffers.
	size                         sizing
	segmentBuffers, chunkBuffers *bufferPool
}

// chunkRef is one chunk to write: the file and which of its chunks. It
// refers to the index rather than copying, so that a tree of many files
// costs little beyond its index.
type chunkRef struct {
	e *toc.Entry
	i int
}

func (r chunkRef) chunk() toc.Chunk { return r.e.Chunk(r.i) }

// byLayerAndOffset orders chunks as the blobs hold them.
func byLayerAndOffset(a, b chunkRef) int {
	ca, cb := a.chunk(), b.chunk()
	return cmp.Or(cmp.Compare(ca.Layer, cb.Layer), cmp.Compare(ca.Offset, cb.Offset))
}

// pullFile is a file of several chunks being written; it is committed
// (renamed into place) when its last chunk lands.
type pullFile struct {
	mu        sync.Mutex
	f         *extract.File
	remaining int
}

// countChunks is how many chunks the files of ix have.
func countChunks(ix *toc.Index) int {
	n := 0
	_ = ix.Walk(func(e *toc.Entry) error { n += e.NumChunks(); return nil })
	return n
}

// prepare makes e if it is a directory or an empty file, and plans its
// writing otherwise.
func (p *puller) prepare(e *toc.Entry) error {
	if err := p.make(e); err != nil {
		return err
	}
	return p.plan(e)
}

// fetchAllBesideDirs makes the directories and empty files while the
// segments are fetched: on a file system where each create costs, making
// them first would hold back every request. The files' writes do not wait
// for them (extract.Dir makes a file's parents as it creates it, and takes
// a directory's mode and time whichever call comes first); it returns
// once both are done.
func (p *puller) fetchAllBesideDirs(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	made := make(chan error, 1)
	go func() {
		if testHookBeforeDirs != nil {
			testHookBeforeDirs()
		}
		err := p.art.Index.Walk(func(e *toc.Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return p.make(e)
		})
		if err != nil {
			cancel() // the fetches are of no use
		}
		made <- err
	}()
	ferr := p.fetchAll(ctx)
	if ferr != nil {
		cancel() // the directories are of no use
	}
	merr := <-made
	switch {
	case merr != nil && !errors.Is(merr, context.Canceled):
		return merr
	case ferr != nil:
		return ferr
	}
	return merr // nil, or the pull was cancelled before every directory was made
}

// testHookBeforeDirs, if set, runs before the directories are made.
var testHookBeforeDirs func()

// make makes e if it is a directory or an empty file.
func (p *puller) make(e *toc.Entry) error {
	switch {
	case e.Type == toc.TypeDir:
		return p.dir.Mkdir(e.Name, e.Mode, e.ModTime())
	case e.Type == toc.TypeReg && e.Size == 0:
		f, err := p.dir.CreateFile(e.Name, e.Mode, 0, e.ModTime())
		if err != nil {
			return err
		}
		return f.Commit()
	}
	return nil
}

// plan records what writing e takes beyond making it: its chunks, or the
// link it is.
func (p *puller) plan(e *toc.Entry) error {
	switch e.Type {
	case toc.TypeSymlink, toc.TypeHardlink:
		p.links = append(p.links, e)
	case toc.TypeReg:
		if e.Size == 0 {
			return nil
		}
		n := e.NumChunks()
		if n > 1 {
			if p.several == nil {
				p.several = map[*toc.Entry]*pullFile{}
			}
			p.several[e] = &pullFile{remaining: n}
		}
		for i := range n {
			p.chunks = append(p.chunks, chunkRef{e: e, i: i})
		}
	}
	return nil
}

func (p *puller) write(r chunkRef, data []byte) error {
	e, pf := r.e, p.several[r.e] // nil for a file of one chunk, written in one go
	create := func() (*extract.File, error) { return p.dir.CreateFile(e.Name, e.Mode, e.Size, e.ModTime()) }
	if pf == nil && r.chunk().FileOffset == 0 && int64(len(data)) == e.Size {
		return p.dir.WriteFile(e.Name, e.Mode, data, e.ModTime())
	}
	if pf == nil {
		f, err := create()
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(data, r.chunk().FileOffset); err != nil {
			return errors.Join(err, f.Discard())
		}
		return f.Commit()
	}
	pf.mu.Lock()
	if pf.f == nil {
		f, err := create()
		if err != nil {
			pf.mu.Unlock()
			return err
		}
		pf.f = f
	}
	f := pf.f
	pf.mu.Unlock()
	if _, err := f.WriteAt(data, r.chunk().FileOffset); err != nil {
		return err
	}
	pf.mu.Lock()
	pf.remaining--
	done := pf.remaining == 0
	pf.mu.Unlock()
	if done {
		return f.Commit()
	}
	return nil
}
