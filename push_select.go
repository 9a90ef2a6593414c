package blobber

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/match"
	"github.com/blobber-dev/blobber/internal/treepath"
)

// IgnoreFile is the file at the root of a pushed tree whose lines
// (gitignore syntax) name entries to leave out of the artifact. It is
// pushed itself unless it lists itself, as with .dockerignore.
const IgnoreFile = layer.IgnoreFile

// WithExclude leaves out of the artifact the entries whose path from the
// tree's root (with slashes) matches one of patterns, in doublestar syntax
// (github.com/bmatcuk/doublestar): "**" matches across directories, "*"
// within one name; "**/*.log" leaves out every .log file. An excluded
// directory is left out with all it holds. The tree's IgnoreFile, if any,
// applies as well. Pull's WithSelect reads patterns the same way
// (docs/patterns.md).
// A pattern that is not valid fails the push (ErrInvalidOption).
func WithExclude(patterns ...string) PushOption {
	return func(o *pushOptions) error {
		if err := match.Validate(patterns); err != nil {
			return invalidOption("WithExclude: %v", err)
		}
		o.selection.Exclude = append(o.selection.Exclude, patterns...)
		return nil
	}
}

// WithDereference stores what symlinks point to instead of the links, as
// `tar -h` does: a link to a directory is stored as a directory. A
// dangling link, or a link to a directory that holds it, fails the push.
func WithDereference() PushOption {
	return func(o *pushOptions) error { o.selection.Dereference = true; return nil }
}

// UnsupportedEntriesError is Push's refusal of a tree holding entries that
// Pull would refuse to create: symlinks whose target is absolute or leads
// out of the tree, FIFOs, sockets and devices. It matches
// ErrUnsupportedEntry. Nothing was uploaded.
type UnsupportedEntriesError struct {
	Entries []string // the first 20, each with why ("a -> /etc (absolute link)")
	Total   int      // how many there are
	Links   int      // how many of them are symlinks, which WithDereference would store
}

func (e *UnsupportedEntriesError) Error() string {
	msg := fmt.Sprintf("%s that pull would refuse: %s: leave them out (WithExclude, or a %s file)",
		treepath.Plural(e.Total, "entry", "entries"), e.List(), IgnoreFile)
	if e.Links > 0 {
		msg += " or store what the links point to (WithDereference)"
	}
	return msg
}

// List names the entries, the first 20 and a count of the others.
func (e *UnsupportedEntriesError) List() string {
	return (&treepath.List{Names: e.Entries, Total: e.Total}).String()
}

func (e *UnsupportedEntriesError) Is(target error) bool { return target == ErrUnsupportedEntry }

// selectTree is src as the push is to store it (see layer.Select), checked
// for entries that pull would refuse; the visitors not nil see every entry
// of the check's walk (layer.CheckVisiting).
func selectTree(ctx context.Context, src fs.FS, po pushOptions, visitors ...func(string, fs.DirEntry)) (fs.FS, error) {
	tree, err := layer.Select(src, po.selection)
	if err != nil {
		return nil, err
	}
	visitors = slices.DeleteFunc(visitors, func(v func(string, fs.DirEntry)) bool { return v == nil })
	var visit func(string, fs.DirEntry)
	if len(visitors) > 0 {
		visit = func(name string, d fs.DirEntry) {
			for _, v := range visitors {
				v(name, d)
			}
		}
	}
	if err := layer.CheckVisiting(ctx, tree, visit); err != nil {
		var refused *layer.UnsupportedError
		if errors.As(err, &refused) {
			return nil, &UnsupportedEntriesError{Entries: refused.Names, Total: refused.Total, Links: refused.Links}
		}
		return nil, buildError(err)
	}
	return tree, nil
}

// buildError makes an error from the layer builder match the package's
// sentinels.
func buildError(err error) error {
	if errors.Is(err, layer.ErrUnsupported) && !errors.Is(err, ErrUnsupportedEntry) {
		return &classified{msg: err.Error(), err: err, kind: ErrUnsupportedEntry}
	}
	return err
}

// refusal tells a registry's refusal of the credentials or of the action
// (401, 403, or no credential for a registry that asks for one) from other
// failures to open an upload session, after which a push goes on as it
// would have without one.
func refusal(err error) bool {
	return errors.Is(classify(err), ErrUnauthorized)
}
