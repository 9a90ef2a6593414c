package push

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
)

// A fingerprint record in the cache is only a hint: whoever could write
// the cache could point it at any manifest, and a reused push tags (and
// signs) that manifest. So before reusing one, Reuse reads back the
// manifest's TOC, verified as every read verifies it, and checks that it
// describes exactly the tree being pushed, file by file, content included.

// errNotThisTree: the manifest a fingerprint named was not built from the
// tree being pushed.
var errNotThisTree = errors.New("the layer does not hold this tree")

// checkBuiltFrom checks that the manifest desc (raw, which the cache
// verified against its digest) has the layer a push of src with build would
// build: its TOC, read from t and verified against the manifest's
// annotation, lists exactly the tree's entries, with their types, sizes,
// modes and link targets, and every chunk digest matches the tree's bytes.
// The manifest's blobs must already be in t.
func (p *Policy) checkBuiltFrom(ctx context.Context, t *target.Target, desc ocispec.Descriptor, raw []byte, src fs.FS, build layer.Options) error {
	name := t.Name + "@" + desc.Digest.String()
	art, err := p.ParseManifest(name, desc, raw)
	if err != nil {
		return err
	}
	_, err = p.checkLayer(ctx, t, name, art, src, build, false)
	return err
}

// checkLayer checks that the layer art, which t holds, is the layer a
// push of src with build would build: of the same compression and level,
// its TOC, read from t and verified against art's TOC digest, lists
// exactly src's entries, and every chunk digest matches src's bytes.
// With keepTail it returns the layer's tail, read back and verified.
func (p *Policy) checkLayer(ctx context.Context, t *target.Target, name string, art Layer, src fs.FS, build layer.Options, keepTail bool) (tail []byte, err error) {
	want := compression.Gzip
	if build.Compression == compression.Zstd {
		want = compression.Zstd
	}
	if art.Compression != want {
		return nil, fmt.Errorf("%s: %w: another compression", name, errNotThisTree)
	}
	if level := compression.Level(art.Desc.Annotations[compression.LevelAnnotation]); level != want.Effective(build.Level) {
		return nil, fmt.Errorf("%s: %w: another compression level (%q)", name, errNotThisTree, level)
	}
	blob, err := t.OpenBlob(ctx, art.Desc)
	if err != nil {
		return nil, err
	}
	defer blob.Close()
	// The tail (TOC and footer) is kept for a split push's config
	// (push_layers_index.go).
	index, tail, err := readLayerTOC(ctx, blob, art, p.Limits, keepTail)
	if err != nil {
		return nil, err
	}
	if err := sameTree(ctx, index, src); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return tail, nil
}

// sameTree compares the index with the tree src, as layer.Build walks it
// (lexical order, parents first, which is also the index's order).
func sameTree(ctx context.Context, index *toc.Index, src fs.FS) error {
	var entries []*toc.Entry
	if err := index.Walk(func(e *toc.Entry) error { entries = append(entries, e); return nil }); err != nil {
		return err
	}
	i := 0
	buf := make([]byte, 256<<10) // one for every file: a tree may hold many small ones
	err := fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if i >= len(entries) || entries[i].Name != name {
			return fmt.Errorf("%w: %s is not in it where the tree has it", errNotThisTree, name)
		}
		e := entries[i]
		i++
		return sameEntry(src, name, d, e, buf)
	})
	if err != nil {
		return err
	}
	if i != len(entries) {
		return fmt.Errorf("%w: it has %s, which the tree does not", errNotThisTree, entries[i].Name)
	}
	return nil
}

const specialModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

func sameEntry(src fs.FS, name string, d fs.DirEntry, e *toc.Entry, buf []byte) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	mode := info.Mode()
	differs := func(what string) error { return fmt.Errorf("%w: %s differs in %s", errNotThisTree, name, what) }
	if mode&specialModeBits != e.Mode {
		return differs("mode")
	}
	switch {
	case mode.IsDir():
		if e.Type != toc.TypeDir {
			return differs("type")
		}
	case mode&fs.ModeSymlink != 0:
		if e.Type != toc.TypeSymlink {
			return differs("type")
		}
		target, err := fs.ReadLink(src, name)
		if err != nil {
			return err
		}
		if target != e.LinkName() {
			return differs("link target")
		}
	case mode.IsRegular():
		if e.Type != toc.TypeReg {
			return differs("type")
		}
		if info.Size() != e.Size {
			return differs("size")
		}
		return sameContent(src, name, e, differs, buf)
	default:
		return differs("type")
	}
	return nil
}

// sameContent hashes the file chunk by chunk against the TOC's chunk
// digests, which are what every reader verifies. It opens the file as the
// build does (layer.RegularOpener), so that a file swapped for a FIFO
// since the walk is found changed, not waited on until someone writes.
func sameContent(src fs.FS, name string, e *toc.Entry, differs func(string) error, buf []byte) error {
	open := src.Open
	if o, ok := src.(layer.RegularOpener); ok {
		open = o.OpenRegular
	}
	f, err := open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		return differs("type")
	}
	h := sha256.New()
	for _, ch := range e.Chunks() {
		h.Reset()
		if n, err := io.CopyBuffer(h, io.LimitReader(f, ch.Size), buf); err != nil {
			return err
		} else if n != ch.Size {
			return differs("content")
		}
		if [sha256.Size]byte(h.Sum(nil)) != ch.SHA256 {
			return differs("content")
		}
	}
	// Nothing may follow the last chunk (the file grew since its stat).
	if n, _ := f.Read(buf[:1]); n != 0 {
		return differs("content")
	}
	return nil
}
