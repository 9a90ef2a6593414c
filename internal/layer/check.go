package layer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/blobber-dev/blobber/internal/treepath"
)

// ErrUnsupported marks an entry that a layer cannot hold, or that pull
// would refuse to create: a device, FIFO or socket, or a symlink that
// leads out of the tree.
var ErrUnsupported = errors.New("unsupported file type")

// UnsupportedError lists the entries of a tree that pull would refuse.
type UnsupportedError struct {
	treepath.List     // each with why, in walk order
	Links         int // how many of them are symlinks
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s that pull would refuse: %s", treepath.Plural(e.Total, "entry", "entries"), e.List.String())
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// Check walks fsys as Build will and returns an *UnsupportedError naming
// every entry that pull would refuse to create: FIFOs, sockets and
// devices, and symlinks whose target is absolute or resolves outside the
// tree. It reads names, types and link targets, never a file's content.
func Check(ctx context.Context, fsys fs.FS) error { return CheckVisiting(ctx, fsys, nil) }

// CheckVisiting is Check, which also shows visit, when not nil, every
// entry its walk meets, the root (".") first: a walk costs a stat of every
// entry, and what else needs one before the build can share this one.
func CheckVisiting(ctx context.Context, fsys fs.FS, visit func(name string, d fs.DirEntry)) error {
	refused := &UnsupportedError{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if visit != nil {
			visit(name, d)
		}
		switch mode := d.Type(); {
		case name == ".", mode.IsDir(), mode.IsRegular():
		case mode&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, name)
			if err != nil {
				return err
			}
			why, err := linkRefusal(fsys, name, target)
			if err != nil {
				return err
			}
			if why != "" {
				refused.Links++
				refused.Add(fmt.Sprintf("%s -> %s (%s)", name, target, why))
			}
		default:
			refused.Add(fmt.Sprintf("%s (%s)", name, kindOf(mode)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if refused.Total > 0 {
		return refused
	}
	return nil
}

// kindOf names a type of file a layer cannot hold.
func kindOf(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "FIFO"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeCharDevice != 0:
		return "character device"
	case mode&fs.ModeDevice != 0:
		return "block device"
	}
	return "irregular file"
}

// linkRefusal says why pull would refuse the symlink name -> target, or
// "": it resolves the target as pull will once the tree is extracted
// (treepath.LinkRefusal), through the links of the tree it passes.
func linkRefusal(fsys fs.FS, name, target string) (string, error) {
	if filepath.IsAbs(target) {
		return "absolute link", nil
	}
	return treepath.LinkRefusal(name, target, func(cand string) (string, bool, bool, error) {
		link, err := fs.ReadLink(fsys, cand)
		if err != nil {
			return "", false, false, nil // not a link, or not there (left out, say)
		}
		return link, true, true, nil
	})
}
