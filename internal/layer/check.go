package layer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// ErrUnsupported marks an entry that a layer cannot hold, or that pull
// would refuse to create: a device, FIFO or socket, or a symlink that
// leads out of the tree.
var ErrUnsupported = errors.New("unsupported file type")

// maxListed is how many refused entries an error names; the rest are
// counted.
const maxListed = 20

// UnsupportedError lists the entries of a tree that pull would refuse.
type UnsupportedError struct {
	Entries []string // the first maxListed, each with why, in walk order
	Total   int
	Links   int // how many of them are symlinks
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s that pull would refuse: %s", plural(e.Total, "entry", "entries"), e.List())
}

// List names the entries, and counts those not named.
func (e *UnsupportedError) List() string {
	list := strings.Join(e.Entries, ", ")
	if more := e.Total - len(e.Entries); more > 0 {
		list += fmt.Sprintf(", and %d more", more)
	}
	return list
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Check walks fsys as Build will and returns an *UnsupportedError naming
// every entry that pull would refuse to create: FIFOs, sockets and
// devices, and symlinks whose target is absolute or resolves outside the
// tree. It reads names, types and link targets, never a file's content.
func Check(ctx context.Context, fsys fs.FS) error {
	refused := &UnsupportedError{}
	refuse := func(what string) {
		refused.Total++
		if len(refused.Entries) < maxListed {
			refused.Entries = append(refused.Entries, what)
		}
	}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch mode := d.Type(); {
		case name == ".", mode.IsDir(), mode.IsRegular():
		case mode&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, name)
			if err != nil {
				return err
			}
			if why := linkRefusal(fsys, name, target); why != "" {
				refused.Links++
				refuse(fmt.Sprintf("%s -> %s (%s)", name, target, why))
			}
		default:
			refuse(fmt.Sprintf("%s (%s)", name, kindOf(mode)))
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

// maxLinkHops matches Linux's MAXSYMLINKS, as pull does.
const maxLinkHops = 40

// linkRefusal says why pull would refuse the symlink name -> target, or
// "". It resolves the target as pull does once the tree is extracted:
// from the link's directory, one component at a time, expanding the links
// of the tree it passes through; a component that is not a link is taken
// as it is.
func linkRefusal(fsys fs.FS, name, target string) string {
	switch {
	case target == "":
		return "empty target"
	case strings.ContainsRune(target, 0):
		return "NUL in target"
	case strings.HasPrefix(target, "/"), filepath.IsAbs(target):
		return "absolute link"
	}
	var resolved []string // from the root down
	if dir := path.Dir(name); dir != "." {
		resolved = strings.Split(dir, "/")
	}
	pending := strings.Split(target, "/")
	for hops := 0; len(pending) > 0; {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(resolved) == 0 {
				return "link out of the tree"
			}
			resolved = resolved[:len(resolved)-1]
			continue
		}
		resolved = append(resolved, c)
		next, err := fs.ReadLink(fsys, strings.Join(resolved, "/"))
		if err != nil {
			continue // not a link (or not there): taken as it is
		}
		if hops++; hops > maxLinkHops {
			return "too many levels of links"
		}
		if strings.HasPrefix(next, "/") || filepath.IsAbs(next) {
			return "link out of the tree, through an absolute link"
		}
		resolved = resolved[:len(resolved)-1]
		pending = append(strings.Split(next, "/"), pending...)
	}
	return ""
}
