package toc

// Limits bound what a TOC may declare, so that a hostile artifact is refused
// from its metadata before anything is fetched or written.
type Limits struct {
	MaxEntries int   // files, directories, links and chunks
	MaxBytes   int64 // total size of regular files
	// MaxTOCBytes bounds the TOC JSON, uncompressed; by default
	// TOCBytesPerEntry for each entry MaxEntries allows, and at most
	// DefaultMaxTOCBytes.
	MaxTOCBytes int64
}

// TOCBytesPerEntry is how much TOC JSON the default TOC limit allows per
// entry: room for an entry as blobber, estargz or zstd:chunked render it
// (digests, times, owners, indentation) with a path longer than real trees
// average, so that a real tree at the entry limit is read. A TOC larger
// than that is made of names no tree has, which the index would hold in
// memory: it is refused before it is decoded, when it says its size.
const TOCBytesPerEntry = 384

// DefaultMaxTOCBytes caps the default TOC limit whatever the entry limit:
// the index holds about as much memory as the TOC is long, and a reader of
// one artifact should not need more than this by default. A tree of a few
// hundred thousand files fits; a bigger one is read with a limit set for
// it (--max-toc-size).
const DefaultMaxTOCBytes = 128 << 20

// DefaultLimits are generous for real trees and stop runaway ones.
var DefaultLimits = Limits{
	MaxEntries:  1_000_000,
	MaxBytes:    64 << 30,
	MaxTOCBytes: DefaultMaxTOCBytes,
}

func (l Limits) orDefault() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxTOCBytes <= 0 {
		l.MaxTOCBytes = min(int64(l.MaxEntries)*TOCBytesPerEntry, DefaultMaxTOCBytes)
	}
	return l
}
