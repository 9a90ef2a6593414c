package toc

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// LayerInfo is what a merged index keeps of one of its layers.
type LayerInfo struct {
	BlobSize   int64
	PayloadEnd int64
	Files      int   // entries of the layer's own TOC, the root excepted
	TotalBytes int64 // sum of its regular files' sizes
}

// MaxLayers bounds the layers of one artifact: every layer costs a TOC
// read and a reader, and a registry refuses far fewer.
const MaxLayers = 4096

// Merge joins the verified indexes of an artifact's layers, in manifest
// order, into one tree whose chunks remember their layer (Chunk.Layer).
// Every path must be in exactly one layer: a path found in two is refused
// as a malformed artifact, except a directory listed in several, which
// merges when its mode and modification time agree (a directory a layer
// leaves implicit agrees with any). The layers must share a compression,
// and the merged tree stays within limits. The parts are consumed: their
// entries become the merged tree's.
func Merge(parts []*Index, limits Limits) (*Index, error) {
	limits = limits.orDefault()
	if len(parts) == 0 || len(parts) > MaxLayers {
		return nil, fmt.Errorf("%w: %d layers", ErrNotEStargz, len(parts))
	}
	out := &Index{Compression: parts[0].Compression, Root: parts[0].Root, maxEntries: limits.MaxEntries}
	for i, p := range parts {
		if p.Compression != out.Compression {
			return nil, fmt.Errorf("%w: layer %d is %s, layer 0 is %s", ErrNotEStargz, i, p.Compression, out.Compression)
		}
		if len(p.Layers) > 0 {
			return nil, fmt.Errorf("%w: layer %d is already a merged index", ErrNotEStargz, i)
		}
		out.Layers = append(out.Layers, LayerInfo{BlobSize: p.BlobSize, PayloadEnd: p.PayloadEnd, Files: p.Files, TotalBytes: p.TotalBytes})
		out.BlobSize += p.BlobSize
		out.TotalBytes += p.TotalBytes
		out.Files += p.Files
		out.chunkEntries += p.chunkEntries
		out.heapBytes += p.heapBytes
		if out.TotalBytes > limits.MaxBytes {
			return nil, fmt.Errorf("%w: files total more than %d bytes", ErrLimit, limits.MaxBytes)
		}
		if err := out.overEntryLimit(); err != nil {
			return nil, err
		}
		setLayer(p.Root, int32(i))
		if p.fileDigests != nil {
			if out.fileDigests == nil {
				out.fileDigests = map[*Entry][sha256.Size]byte{}
			}
			maps.Copy(out.fileDigests, p.fileDigests)
		}
		if i == 0 {
			continue
		}
		merged, err := mergeDir(out.Root, p.Root)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		out.Files -= merged
	}
	return out, nil
}

// setLayer marks every chunk under e as held by layer.
func setLayer(e *Entry, layer int32) {
	e.setChunkLayer(layer)
	for _, c := range e.Children() {
		setLayer(c, layer)
	}
}

// mergeDir moves src's children into dst, a directory of the same name,
// and returns how many directories both held.
func mergeDir(dst, src *Entry) (merged int, err error) {
	if !sameDir(dst, src) {
		return 0, fmt.Errorf("%w: directory %q is in two layers with different mode or time", ErrNotEStargz, dst.Name)
	}
	if dst.implicit && !src.implicit {
		dst.copyModeAndTime(src)
		dst.implicit = false
	}
	// src's children are sorted and distinct: only dst's own (sorted)
	// children can collide with them.
	own := dst.Children()
	added := false
	for _, c := range src.Children() {
		j, found := slices.BinarySearchFunc(own, c.Name, func(e *Entry, name string) int { return strings.Compare(e.Name, name) })
		if !found {
			dst.addChild(c)
			added = true
			continue
		}
		d := own[j]
		if d.Type != TypeDir || c.Type != TypeDir {
			return 0, fmt.Errorf("%w: %q is in two layers", ErrNotEStargz, c.Name)
		}
		n, err := mergeDir(d, c)
		if err != nil {
			return 0, err
		}
		merged += n + 1
	}
	if added {
		slices.SortFunc(dst.Children(), func(a, b *Entry) int { return strings.Compare(a.Name, b.Name) })
	}
	return merged, nil
}

// sameDir tells whether two layers' entries of one directory agree. A
// directory a layer does not list (the parent of what it holds) agrees
// with any.
func sameDir(a, b *Entry) bool {
	return a.implicit || b.implicit || a.sameModeAndTime(b)
}

// LayerOf is the layer that holds the regular file e's bytes, and false
// for an entry without any (an empty file, a directory, a link).
func LayerOf(e *Entry) (int, bool) {
	if e.NumChunks() == 0 {
		return 0, false
	}
	return int(e.Chunk(0).Layer), true
}

// MergeBudget counts the layers' indexes as they are read, before Merge,
// so that an artifact whose layers together exceed the limits is refused
// once the layers read so far do, not after every layer's index is held.
type MergeBudget struct {
	limits  Limits
	mu      sync.Mutex
	entries int
	bytes   int64
}

// NewMergeBudget returns a budget of limits (the defaults where unset).
func NewMergeBudget(limits Limits) *MergeBudget {
	return &MergeBudget{limits: limits.orDefault()}
}

// Add counts one layer's index against the budget.
func (b *MergeBudget) Add(part *Index) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries += part.Files + part.chunkEntries
	b.bytes += part.TotalBytes
	if b.entries > b.limits.MaxEntries {
		return fmt.Errorf("%w: the layers hold more than %d entries (files, directories, links and chunks)", ErrLimit, b.limits.MaxEntries)
	}
	if b.bytes > b.limits.MaxBytes {
		return fmt.Errorf("%w: the layers' files total more than %d bytes", ErrLimit, b.limits.MaxBytes)
	}
	return nil
}
