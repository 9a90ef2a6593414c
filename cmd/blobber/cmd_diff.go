package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

// Exit codes of diff, as diff(1)'s: 0 identical, 1 different, 2 and up
// trouble. What other commands exit 1 for (registry unreachable, I/O
// error), diff exits 2 for; 3, 4, 5 and 130 keep their meaning.
const (
	exitDifferent   = 1
	exitDiffTrouble = 2
)

type diffOptions struct {
	stat bool
}

func newDiffCmd(g *globalOptions) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff REF1 REF2 | REF DIR | DIR REF",
		Short: "List the paths that differ between two artifacts (from their tables of contents only), or an artifact and a directory",
		Long: `diff compares two artifacts from their tables of contents alone (no file
content is downloaded), or an artifact with a local directory (whose files are
hashed only when their type and size match the artifact's). It prints one line
per change, as git diff --name-status does:

  A  path        only in the second
  D  path        only in the first
  M  path        content changed (the digests in the tables of contents differ)
  M  path  mode 0644 -> 0755                 mode changed, content the same
  M  path  content, mode 0644 -> 0755        both
  M  path  target a.txt -> b.txt             a symlink's target changed
  T  path  file -> dir                       type changed

Fields are separated by tabs. A directory is an argument that starts with
/, ./ or ../ (or is . or ..); anything else is a reference. With --oci-layout,
an existing directory without an oci-layout file is a directory.

Exit status: 0 identical, 1 different, 2 and up for trouble (2 where other
commands exit 1; 3 not found, 4 unauthorized, 5 integrity, as elsewhere).`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("expected 2 arguments (REF1 REF2, REF DIR or DIR REF), got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			err := runDiff(cmd, g, o, args)
			var status exitStatus
			if err != nil && !errors.As(err, &status) {
				err = diffTrouble{err}
			}
			return err
		},
	}
	cmd.ValidArgsFunction = completeArgs(g, argRef, argRef)
	cmd.Flags().BoolVar(&o.stat, "stat", false, "print only counts of the changes and the bytes of the files they touch")
	return cmd
}

func runDiff(cmd *cobra.Command, g *globalOptions, o *diffOptions, args []string) error {
	out, err := outputOf(cmd)
	if err != nil {
		return err
	}
	oldDir, newDir := isLocalDir(args[0], g.ociLayout), isLocalDir(args[1], g.ociLayout)
	if oldDir && newDir {
		return usagef("%s and %s are both directories: diff compares an artifact with an artifact or a directory (for two directories, use diff -r)", printable(args[0]), printable(args[1]))
	}
	if err := refuseAmbiguous(args, g.ociLayout); err != nil {
		return err
	}
	c, err := g.client(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var d *blobber.Diff
	switch {
	case newDir:
		d, err = c.DiffDir(ctx, args[0], args[1])
	case oldDir:
		d, err = c.DiffDir(ctx, args[1], args[0])
		if err == nil {
			d = d.Reverse()
		}
	default:
		d, err = c.Diff(ctx, args[0], args[1])
	}
	if err != nil {
		return err
	}
	if err := printDiff(out, d, o); err != nil {
		return err
	}
	if !d.Identical() {
		return exitStatus(exitDifferent)
	}
	return nil
}

// isLocalDir tells a directory from a reference: a path that starts
// with /, ./ or ../ (or is . or ..), which no reference does; with
// --oci-layout, whose references are paths too, an existing directory
// that is not an OCI layout.
func isLocalDir(arg string, ociLayout bool) bool {
	if ociLayout {
		info, err := os.Stat(arg)
		if err != nil || !info.IsDir() {
			return false
		}
		_, err = os.Stat(filepath.Join(arg, "oci-layout"))
		return errors.Is(err, fs.ErrNotExist)
	}
	if arg == "." || arg == ".." || filepath.IsAbs(arg) {
		return true
	}
	for _, prefix := range []string{"/", "./", "../", string(filepath.Separator), "." + string(filepath.Separator), ".." + string(filepath.Separator)} {
		if strings.HasPrefix(arg, prefix) {
			return true
		}
	}
	return false
}

// refuseAmbiguous refuses an argument taken as a reference that also
// names a local directory (out, which would be docker.io/library/out),
// before anything is asked of a registry, with the spelling that means
// the directory.
func refuseAmbiguous(args []string, ociLayout bool) error {
	if ociLayout {
		return nil
	}
	for i, arg := range args {
		if isLocalDir(arg, false) {
			continue
		}
		if info, err := os.Stat(arg); err == nil && info.IsDir() {
			fixed := []string{args[0], args[1]}
			fixed[i] = "./" + arg
			return usageWithHint(fmt.Errorf("%s names a local directory, but a directory must be written as a path (./%s) to be taken for one", printable(arg), printable(arg)),
				"blobber diff "+strings.Join(fixed, " "))
		}
	}
	return nil
}

// exitStatus ends a command with a code and no message: diff's 1,
// "different", is not a failure.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// diffTrouble marks diff's failures, which exit 2 where other commands'
// exit 1 (reportError).
type diffTrouble struct{ err error }

func (d diffTrouble) Error() string { return d.err.Error() }
func (d diffTrouble) Unwrap() error { return d.err }

// printDiff prints d: one line a change, the totals (--stat), or the
// JSON object docs/json.md describes.
func printDiff(out *output, d *blobber.Diff, o *diffOptions) error {
	var paths []string
	for _, c := range d.Changes {
		paths = append(paths, c.Path)
	}
	return out.object(diffJSONOf(d), paths, func(w io.Writer) error {
		if o.stat {
			return printDiffStat(w, d)
		}
		for _, c := range d.Changes {
			line := string(c.Kind) + "\t" + printable(c.Path)
			if note := changeNote(c); note != "" {
				line += "\t" + note
			}
			if _, err := fmt.Fprintln(w, line); err != nil {
				return err
			}
		}
		return nil
	})
}

// changeNote says what changed, beyond the kind: nothing for a change of
// content alone (as git prints it).
func changeNote(c blobber.Change) string {
	switch c.Kind {
	case blobber.ChangeTypeChanged:
		return string(c.Old.Type) + " -> " + string(c.New.Type)
	case blobber.ChangeModified:
	default:
		return ""
	}
	var notes []string
	switch {
	case c.TargetChanged:
		notes = append(notes, "target "+printable(c.Old.Target)+" -> "+printable(c.New.Target))
	case c.ContentChanged && c.ModeChanged:
		notes = append(notes, "content")
	}
	if c.ModeChanged {
		notes = append(notes, fmt.Sprintf("mode %04o -> %04o", unixMode(c.Old.Mode), unixMode(c.New.Mode)))
	}
	return strings.Join(notes, ", ")
}

func printDiffStat(w io.Writer, d *blobber.Diff) error {
	t := d.Totals
	n := t.Added + t.Deleted + t.Modified + t.TypeChanged
	_, err := fmt.Fprintf(w, "%s: %d added, %d deleted, %d modified, %d type changed; %d bytes in the old files, %d in the new\n",
		countOf(n, "change", "changes"), t.Added, t.Deleted, t.Modified, t.TypeChanged, t.OldBytes, t.NewBytes)
	if err == nil && d.Hashed > 0 {
		_, err = fmt.Fprintf(w, "hashed %s (%d bytes) of the directory\n", countOf(d.Hashed, "file", "files"), d.HashedBytes)
	}
	return err
}

// diffJSON is diff's result as --format json prints it (docs/json.md).
type diffJSON struct {
	Old         string           `json:"old"`
	New         string           `json:"new"`
	Identical   bool             `json:"identical"`
	Changes     []diffChangeJSON `json:"changes"`
	Totals      diffTotalsJSON   `json:"totals"`
	Hashed      int              `json:"hashed"`
	HashedBytes int64            `json:"hashedBytes"`
}

type diffChangeJSON struct {
	Path           string         `json:"path"`
	Kind           string         `json:"kind"`
	ContentChanged bool           `json:"contentChanged"`
	ModeChanged    bool           `json:"modeChanged"`
	TargetChanged  bool           `json:"targetChanged"`
	Old            *diffEntryJSON `json:"old,omitempty"`
	New            *diffEntryJSON `json:"new,omitempty"`
}

type diffEntryJSON struct {
	Type       string `json:"type"`
	Mode       string `json:"mode"`
	Size       int64  `json:"size"`
	Digest     string `json:"digest,omitempty"`
	LinkTarget string `json:"linkTarget,omitempty"`
}

type diffTotalsJSON struct {
	Added       int   `json:"added"`
	Deleted     int   `json:"deleted"`
	Modified    int   `json:"modified"`
	TypeChanged int   `json:"typeChanged"`
	OldBytes    int64 `json:"oldBytes"`
	NewBytes    int64 `json:"newBytes"`
}

func diffJSONOf(d *blobber.Diff) diffJSON {
	t := d.Totals
	out := diffJSON{
		Old: d.Old, New: d.New, Identical: d.Identical(), Changes: []diffChangeJSON{},
		Totals:      diffTotalsJSON{t.Added, t.Deleted, t.Modified, t.TypeChanged, t.OldBytes, t.NewBytes},
		Hashed:      d.Hashed,
		HashedBytes: d.HashedBytes,
	}
	for _, c := range d.Changes {
		out.Changes = append(out.Changes, diffChangeJSON{
			Path: c.Path, Kind: string(c.Kind),
			ContentChanged: c.ContentChanged, ModeChanged: c.ModeChanged, TargetChanged: c.TargetChanged,
			Old: diffEntryJSONOf(c.Old), New: diffEntryJSONOf(c.New),
		})
	}
	return out
}

func diffEntryJSONOf(e *blobber.DiffEntry) *diffEntryJSON {
	if e == nil {
		return nil
	}
	return &diffEntryJSON{
		Type: string(e.Type), Mode: fmt.Sprintf("%04o", unixMode(e.Mode)), Size: e.Size,
		Digest: e.Digest.String(), LinkTarget: e.Target,
	}
}
