package toc

// Limits bound what a TOC may declare, so that a hostile artifact is refused
// from its metadata before anything is fetched or written.
type Limits struct {
	MaxEntries  int   // files, directories and links
	MaxBytes    int64 // total size of regular files
	MaxTOCBytes int64 // the TOC JSON, uncompressed
}

// DefaultLimits are generous for real trees and stop runaway ones.
var DefaultLimits = Limits{
	MaxEntries:  1_000_000,
	MaxBytes:    64 << 30,
	MaxTOCBytes: 512 << 20,
}

func (l Limits) orDefault() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxTOCBytes <= 0 {
		l.MaxTOCBytes = DefaultLimits.MaxTOCBytes
	}
	return l
}
