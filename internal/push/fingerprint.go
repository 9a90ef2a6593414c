package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io/fs"
	"strconv"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/target"
)

// layerFormat changes whenever the same tree and options would build a
// different blob, so that fingerprints from older builds are not reused.
// blobber-layer-2: with zstd, the tar headers of a long run of entries
// without content (empty files, directories, symlinks) are cut into members
// of about a megabyte rather than compressed as one, so that memory stays
// bounded; such trees now build a different zstd blob.
// blobber-layer-3: the tar stream ends (two zero blocks, in a member of
// their own) before the TOC, so that a plain tar reader sees only the tree;
// every blob and diffID changed.
const layerFormat = "blobber-layer-3"

// Fingerprint names a tree's exact state and the build options from file
// metadata alone — path, type, mode, size, modification and change times,
// inode — the way make and rsync detect changes. The change time cannot be
// set by tools, so any write to a file changes it. It returns "" when the
// file system does not expose that metadata (not an os.DirFS, say). The
// same walk gives the tree's shape key (see shape).
func Fingerprint(fsys fs.FS, build layer.Options) (fp, shapeKey string) {
	f := NewFingerprinter(build)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if f.Visit(name, d); f.failed {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", ""
	}
	return f.Sum()
}

// Fingerprinter computes Fingerprint from the entries of a walk done for
// another reason, so that a push stats its tree once per walk it needs
// anyway (the check before the build, the build) rather than in walks of
// its own: every walk through an os.Root stats every entry.
type Fingerprinter struct {
	h      hash.Hash
	sh     shape
	buf    []byte
	failed bool
	// The mode of the last entry, rendered: most entries of a tree share
	// a few modes, and FileMode.String makes a string each time.
	lastMode     fs.FileMode
	lastModeText string
}

// NewFingerprinter starts the fingerprint of a tree to be built with build.
func NewFingerprinter(build layer.Options) *Fingerprinter {
	f := &Fingerprinter{h: sha256.New()}
	// The level the layer is built at is part of what it is: a push at
	// another level must not reuse this one.
	fmt.Fprintf(f.h, "%s %q %q %d %v\n", layerFormat, build.Compression, build.Compression.Effective(build.Level), build.ChunkSize, build.KeepModTimes)
	return f
}

// Visit adds the entry d of a walk (fs.WalkDirFunc's arguments).
func (f *Fingerprinter) Visit(name string, d fs.DirEntry) {
	if f.failed {
		return
	}
	info, err := d.Info()
	if err != nil {
		f.failed = true
		return
	}
	f.Add(name, info)
}

// Visitor is Visit as a function, or nil for a nil Fingerprinter, for a
// walk that fingerprints the tree only when asked to.
func (f *Fingerprinter) Visitor() func(name string, d fs.DirEntry) {
	if f == nil {
		return nil
	}
	return f.Visit
}

// Add adds the entry name, which info describes. Entries must come in the
// order of fs.WalkDir, the root (".") first.
func (f *Fingerprinter) Add(name string, info fs.FileInfo) {
	if f.failed {
		return
	}
	// As fmt's "%q %v %d %s\n" of name, mode, size and identity.
	mode := info.Mode()
	if mode != f.lastMode || f.lastModeText == "" {
		f.lastMode, f.lastModeText = mode, mode.String()
	}
	b := strconv.AppendQuote(f.buf[:0], name)
	b = append(b, ' ')
	b = append(b, f.lastModeText...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, info.Size(), 10)
	b = append(b, ' ')
	b, ok := appendIdentity(b, info)
	if !ok {
		f.failed = true
		return
	}
	b = append(b, '\n')
	f.h.Write(b)
	f.buf = b
	if mode.IsRegular() {
		f.sh.add(name, info.Size())
	}
}

// Sum is the tree's fingerprint and shape key; "" for both when an entry
// could not be described.
func (f *Fingerprinter) Sum() (fp, shapeKey string) {
	if f == nil || f.failed {
		return "", ""
	}
	return hex.EncodeToString(f.h.Sum(nil)), f.sh.key()
}

// Reuse pushes again the manifest of an earlier build of the same tree
// state, when the target already has its blobs or mnt can mount them from
// another repository of the registry: an unchanged tree is not rebuilt,
// only tagged. The fingerprint record is a hint, not a proof: the manifest
// is tagged only if its layer's TOC, read back and verified, describes this
// very tree (checkBuiltFrom); else the tree is pushed as if new.
func (p *Policy) Reuse(ctx context.Context, t *target.Target, mnt *Mounter, src fs.FS, build layer.Options, fp, tag string) (ocispec.Descriptor, bool) {
	if p.Cache == nil || fp == "" {
		return ocispec.Descriptor{}, false
	}
	dgst, _, _, ok := p.Cache.Fingerprint(fp)
	if !ok {
		return ocispec.Descriptor{}, false
	}
	mt, raw, ok := p.Cache.Manifest(dgst)
	if !ok {
		return ocispec.Descriptor{}, false
	}
	var m ocispec.Manifest
	if json.Unmarshal(raw, &m) != nil || len(m.Layers) != 1 {
		return ocispec.Descriptor{}, false
	}
	// The layer first: when it cannot be had, the config is not worth a
	// request.
	blobs := []ocispec.Descriptor{m.Layers[0], m.Config}
	for _, blob := range blobs {
		has, err := t.Store.Exists(ctx, blob)
		if err != nil || !has && !mnt.Mount(ctx, blob, nil) {
			return ocispec.Descriptor{}, false
		}
	}
	earlier := ocispec.Descriptor{MediaType: mt, Digest: dgst, Size: int64(len(raw))}
	if err := p.checkBuiltFrom(ctx, t, earlier, raw, src, build); err != nil {
		p.Counts.RefusedRecords.Add(1)
		p.Logger.WarnContext(ctx, "ignoring the cache's record of an earlier push of this tree", "manifest", dgst, "error", err)
		return ocispec.Descriptor{}, false
	}
	desc, err := oras.TagBytes(ctx, t.Store, mt, raw, tag)
	if err != nil {
		return ocispec.Descriptor{}, false
	}
	mnt.Remember(blobs...)
	p.Counts.ReusedPushes.Add(1)
	p.Logger.InfoContext(ctx, "tree unchanged since an earlier push; reused its layer", "manifest", desc.Digest)
	return desc, true
}

// RememberPush records what a tree state built to, for Reuse.
func (p *Policy) RememberPush(fp, shapeKey string, desc ocispec.Descriptor, manifest []byte) {
	if p.Cache == nil || fp == "" {
		return
	}
	if p.Cache.PutManifest(desc.Digest, desc.MediaType, manifest) == nil {
		_ = p.Cache.PutFingerprint(fp, desc.Digest, desc.MediaType, desc.Size)
		p.RememberShape(shapeKey, desc)
	}
}
