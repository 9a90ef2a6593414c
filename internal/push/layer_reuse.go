package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"strconv"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/upload"
)

// A split push (several layers) remembers, per layer, what the group of
// entries it was built from looked like, so that a push after a change
// rebuilds only the layers whose groups changed. The record is a hint,
// as the whole tree's is (reuse_check.go): a layer is reused only once the
// registry is seen to hold it and its TOC, read back and verified, is
// found to list exactly the group's entries, their bytes hashing to its
// chunk digests.

// tocDigestAnnotation is where a layer's descriptor names its TOC's digest.
const tocDigestAnnotation = "containerd.io/snapshot/stargz/toc.digest"

// LayerFingerprint names the state of the subtree sub (one group's entries
// and the directories that lead to them) and the build options, from
// metadata alone, as Fingerprint names a whole tree. A directory counts by
// its name and mode (and its time, when the build keeps times), not its
// change time or inode: those change when an entry of another group is
// added to it, which leaves this group's layer as it was. It returns ""
// where the file system does not expose the metadata.
func LayerFingerprint(sub fs.FS, build layer.Options) string {
	f := NewLayerFingerprinter(build)
	err := fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if f.Add(name, info); f.failed {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return ""
	}
	return f.Sum()
}

// A LayerFingerprinter is LayerFingerprint fed the subtree's entries (the
// root excepted) in walk order by a walk done for another reason: the
// push's check, or the layer's build (layer.Options.Listed), so that a
// split push does not walk each group again to fingerprint it.
type LayerFingerprinter struct {
	h            hash.Hash
	keepModTimes bool
	failed       bool
	line         []byte // the line Add writes, kept for the next one
}

// NewLayerFingerprinter starts the fingerprint of a group built with build.
func NewLayerFingerprinter(build layer.Options) *LayerFingerprinter {
	f := &LayerFingerprinter{h: sha256.New(), keepModTimes: build.KeepModTimes}
	fmt.Fprintf(f.h, "layer %s %q %q %d %v\n", layerFormat, build.Compression, build.Compression.Effective(build.Level), build.ChunkSize, build.KeepModTimes)
	return f
}

// Add adds the entry name, in the state info: a line as
// "%q %v %d %s\n" (name, mode, size, identity) prints it for a file, and
// "%q %v\n" for a directory (" %d" of its modification time before the
// newline when those are kept), appended to one buffer the fingerprinter
// reuses rather than formatted: a split push adds every entry twice.
func (f *LayerFingerprinter) Add(name string, info fs.FileInfo) {
	if f.failed {
		return
	}
	b := strconv.AppendQuote(f.line[:0], name)
	b = append(b, ' ')
	b = append(b, info.Mode().String()...)
	if info.IsDir() {
		if f.keepModTimes {
			b = append(b, ' ')
			b = strconv.AppendInt(b, info.ModTime().UnixNano(), 10)
		}
	} else {
		b = append(b, ' ')
		b = strconv.AppendInt(b, info.Size(), 10)
		b = append(b, ' ')
		var isStat bool
		if b, isStat = appendIdentity(b, info); !isStat {
			f.failed = true
			return
		}
	}
	b = append(b, '\n')
	f.h.Write(b)
	f.line = b
}

// Sum is the fingerprint of the entries added: "" when one of them did
// not expose its metadata.
func (f *LayerFingerprinter) Sum() string {
	if f == nil || f.failed {
		return ""
	}
	return hex.EncodeToString(f.h.Sum(nil))
}

// ReusedLayer is a layer an earlier push built, found to hold this
// push's group: its descriptor, its diffID, and its tail (TOC and footer)
// as read back and verified.
type ReusedLayer struct {
	Desc   ocispec.Descriptor
	DiffID digest.Digest
	Tail   []byte
}

// ReuseLayer returns the layer (its descriptor, diffID and tail) that an earlier
// push built from the group sub, whose fingerprint is fp, so that this
// push need not build it again: only when the cache records one for fp,
// the target holds its blob (or mnt mounts it from another repository),
// and its TOC, read from the target and verified against the descriptor's
// annotation, describes sub exactly, content included. A record found
// not to is counted (RefusedRecords) and ignored.
func (p *Policy) ReuseLayer(ctx context.Context, t *target.Target, mnt *Mounter, sub fs.FS, build layer.Options, fp string) (ReusedLayer, bool) {
	if p.Cache == nil || fp == "" {
		return ReusedLayer{}, false
	}
	desc, diffID, ok := p.Cache.Layer(fp)
	if !ok {
		return ReusedLayer{}, false
	}
	refuse := func(err error) (ReusedLayer, bool) {
		p.Counts.RefusedRecords.Add(1)
		p.Logger.WarnContext(ctx, "ignoring the cache's record of an earlier build of this layer", "layer", desc.Digest, "error", err)
		return ReusedLayer{}, false
	}
	art, err := recordedLayer(desc)
	if err != nil {
		return refuse(err)
	}
	has, err := t.Store.Exists(ctx, desc)
	if err != nil || !has && !mnt.Mount(ctx, desc, nil) {
		// Not a wrong record: the registry lacks the blob, which is built.
		return ReusedLayer{}, false
	}
	tail, err := p.checkLayer(ctx, t, t.Name+"@"+desc.Digest.String(), art, sub, build, true)
	if err != nil {
		return refuse(err)
	}
	mnt.Remember(desc)
	p.Counts.ReusedLayers.Add(1)
	p.Logger.InfoContext(ctx, "layer's entries unchanged since an earlier push; reused it", "layer", desc.Digest)
	return ReusedLayer{Desc: desc, DiffID: diffID, Tail: tail}, true
}

// recordedLayer reads a recorded descriptor as the eStargz layer it names.
func recordedLayer(desc ocispec.Descriptor) (Layer, error) {
	var comp compression.Compression
	switch desc.MediaType {
	case compression.Gzip.MediaType():
		comp = compression.Gzip
	case compression.Zstd.MediaType():
		comp = compression.Zstd
	default:
		return Layer{}, fmt.Errorf("%w: media type %q", errNotThisTree, desc.MediaType)
	}
	tocDigest, err := digest.Parse(desc.Annotations[tocDigestAnnotation])
	if err != nil {
		return Layer{}, fmt.Errorf("%w: TOC digest: %v", errNotThisTree, err)
	}
	return Layer{Desc: desc, Compression: comp, TOCDigest: tocDigest}, nil
}

// RememberLayer records that the group of fingerprint fp built the layer
// desc, of diffID, for ReuseLayer. Call it only once the push that built
// the layer succeeded, with a fingerprint taken again after the build.
func (p *Policy) RememberLayer(fp string, desc ocispec.Descriptor, diffID digest.Digest) {
	if p.Cache == nil || fp == "" {
		return
	}
	// A cache that cannot be written only costs a build.
	_ = p.Cache.PutLayer(fp, desc, diffID)
}

// UploadLayersWhileBuilding reports whether the layers a split push to
// tag builds may be worth uploading while they are built, as
// UploadWhileBuilding decides for one layer: with a cache (without one, a
// push cannot tell a new layer from one pushed before), to a registry, for
// a tag the repository does not have yet.
func (p *Policy) UploadLayersWhileBuilding(ctx context.Context, t *target.Target, tag string) bool {
	if p.Cache == nil || t.RegistryHost() == "" {
		return false
	}
	_, err := t.Store.Resolve(ctx, tag)
	return errors.Is(err, errdef.ErrNotFound)
}

// UploadLayerWhileBuilding starts uploading one layer of a split push,
// staged in staged, while it is built (see EarlyUpload), into session
// when there is one; nil when it cannot start, and the layer is uploaded
// once built.
func (p *Policy) UploadLayerWhileBuilding(ctx context.Context, t *target.Target, up Upload, staged *upload.Tail, session *upload.Session) *EarlyUpload {
	return p.startUpload(ctx, t, up, staged, session)
}

// LayerRecorded reports whether the cache has a record of the group of
// fingerprint fp (which ReuseLayer checks before it is trusted).
func (p *Policy) LayerRecorded(fp string) bool {
	if p.Cache == nil || fp == "" {
		return false
	}
	_, _, ok := p.Cache.Layer(fp)
	return ok
}
