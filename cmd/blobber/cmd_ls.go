package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

type lsOptions struct {
	long  bool
	human bool
}

func newLsCmd(g *globalOptions) *cobra.Command {
	o := &lsOptions{}
	cmd := &cobra.Command{
		Use:   "ls REF [PREFIX]",
		Short: "List the files of an artifact, or of one directory in it (reads only its table of contents)",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("expected 1 or 2 arguments (REF [PREFIX]), got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			img, err := g.open(cmd, args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			prefix := "."
			if len(args) == 2 {
				prefix = cleanPath(args[1])
				if _, err := img.Lstat(prefix); err != nil {
					if errors.Is(err, blobber.ErrNotFound) {
						return fmt.Errorf("%s has no %s: %w", args[0], printable(args[1]), blobber.ErrNotFound)
					}
					return fmt.Errorf("%s: %w", args[0], err)
				}
			}
			if err := listImage(cmd, img, prefix, o, out); err != nil {
				return err
			}
			g.reportStats(cmd, img)
			return nil
		},
	}
	cmd.ValidArgsFunction = completeArgs(g, argRef, argPath)
	cmd.Flags().BoolVarP(&o.long, "long", "l", false, "show mode, size, modification time (when the artifact records times) and link targets, then a total")
	cmd.Flags().BoolVarP(&o.human, "human-readable", "h", false, "with -l, sizes in human units (1.5K, 23M)")
	// -h is ls's human-readable sizes, as in ls(1); help is --help alone.
	cmd.Flags().Bool("help", false, "help for ls")
	return cmd
}

// lsEntry is one entry as --format json prints it (docs/json.md).
type lsEntry struct {
	Path       string `json:"path"`
	Type       string `json:"type"`
	Mode       string `json:"mode"`
	Size       int64  `json:"size"`
	ModTime    string `json:"mtime,omitempty"`
	LinkTarget string `json:"linkTarget,omitempty"`
	Digest     string `json:"digest,omitempty"`
}

// listImage lists prefix (a directory's subtree, or one entry) in walk
// order.
func listImage(cmd *cobra.Command, img *blobber.Image, prefix string, o *lsOptions, out *output) error {
	w := bufio.NewWriter(cmd.OutOrStdout())
	out.w = w
	withTimes := o.long && recordsTimes(img, prefix)
	var files int
	var total int64
	err := fs.WalkDir(img, prefix, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." || name == prefix && d.IsDir() {
			return nil // a directory's listing is what it holds
		}
		info, err := img.Lstat(name)
		if err != nil {
			return err
		}
		e := lsEntry{Path: name, Type: entryType(info.Mode()), Mode: fmt.Sprintf("%04o", unixMode(info.Mode())), Size: info.Size()}
		if t := info.ModTime(); recorded(t) {
			e.ModTime = t.UTC().Format(time.RFC3339)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if e.LinkTarget, err = img.ReadLink(name); err != nil {
				return err
			}
		}
		if info.Mode().IsRegular() {
			files++
			total += info.Size()
			if out.structured() {
				if dg, ok := img.FileDigest(name); ok {
					e.Digest = dg.String()
				}
			}
		}
		return out.item(e, name, func(w io.Writer) error {
			if !o.long {
				_, err := fmt.Fprintln(w, printable(name))
				return err
			}
			size := fmt.Sprintf("%12d", info.Size())
			if o.human {
				size = fmt.Sprintf("%6s", humanSize(info.Size()))
			}
			line := modeString(info.Mode()) + " " + size + "  "
			if withTimes {
				line += info.ModTime().Local().Format("2006-01-02 15:04") + "  "
			}
			line += printable(name)
			if e.LinkTarget != "" {
				line += " -> " + printable(e.LinkTarget)
			}
			_, err := fmt.Fprintln(w, line)
			return err
		})
	})
	if err != nil {
		return err
	}
	if o.long && !out.structured() && !out.quiet {
		size := fmt.Sprintf("%d bytes", total)
		if o.human && total >= 1024 {
			size = humanSize(total)
		}
		fmt.Fprintf(w, "total %s, %s\n", countOf(files, "file", "files"), size)
	}
	return w.Flush()
}

// recordsTimes tells whether the artifact recorded modification times
// (push --keep-mtime); without, every entry has the same fixed time.
func recordsTimes(img *blobber.Image, prefix string) bool {
	found := false
	_ = fs.WalkDir(img, prefix, func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := img.Lstat(name); err == nil && recorded(info.ModTime()) {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// recorded tells a real modification time from the fixed one (the Unix
// epoch) a reproducible push writes, or none.
func recorded(t time.Time) bool { return !t.IsZero() && t.Unix() != 0 }

// entryType names the kind of an entry in JSON.
func entryType(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeCharDevice != 0:
		return "char"
	case m&fs.ModeDevice != 0:
		return "block"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m.IsDir():
		return "dir"
	}
	return "file"
}

// unixMode is the permission bits with setuid, setgid and sticky where
// chmod puts them.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// humanSize is ls -h's spelling: 999, 1.0K, 23M (powers of 1024).
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d", n)
	}
	f, unit := float64(n), 0
	for f >= 1024 && unit < 6 {
		f /= 1024
		unit++
	}
	if f < 10 {
		return fmt.Sprintf("%.1f%c", f, "BKMGTPE"[unit])
	}
	return fmt.Sprintf("%.0f%c", f, "BKMGTPE"[unit])
}

// modeString is ls -l's spelling of a mode ("lrwxrwxrwx" where Go says "L").
func modeString(m fs.FileMode) string {
	s := m.String()
	switch {
	case m&fs.ModeSymlink != 0:
		return "l" + s[len(s)-9:]
	case m&fs.ModeCharDevice != 0:
		return "c" + s[len(s)-9:]
	case m&fs.ModeDevice != 0:
		return "b" + s[len(s)-9:]
	case m&fs.ModeNamedPipe != 0:
		return "p" + s[len(s)-9:]
	case m.IsDir():
		return "d" + s[len(s)-9:]
	}
	return "-" + s[len(s)-9:]
}
