package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newPullCmd(g *globalOptions) *cobra.Command {
	var overwrite, dereference, allowEmpty bool
	var include, exclude []string
	var progressOpts progressFlags
	cmd := &cobra.Command{
		Use:   "pull REF DIR [PATH...]",
		Short: "Extract an artifact, or the files and directories chosen, into a directory",
		Long: `Extract an artifact into DIR, creating it if needed. Existing files are
never replaced unless --overwrite is given; a pull that fails removes what
it created and leaves what was already in DIR as it was.

With PATHs (from the artifact's root; a directory stands for all it holds),
--include or --exclude, only the chosen entries are written and only their
files' chunks are fetched, each checked against its digest; the directories
above them are created with the artifact's modes. Globs use doublestar
syntax: * within one name, ** across directories, and a directory that
matches stands for all it holds; --exclude wins. A PATH or --include that
matches nothing fails the pull (exit 3) unless --allow-empty is given.
Patterns are explained in docs/patterns.md.`,
		Example: `  blobber pull localhost:5000/team/site:v1 ./site
  blobber pull localhost:5000/team/site:v1 ./site assets/img index.html
  blobber pull localhost:5000/team/site:v1 ./site --include '**/*.css' --exclude 'vendor/**'`,
		Args: minArgs(2, "REF DIR [PATH...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, f := range []struct {
				name     string
				patterns []string
			}{{"--include", include}, {"--exclude", exclude}} {
				for _, p := range f.patterns {
					if blobber.CheckPattern(p) != nil {
						return usagef("pull: %s %q: not a valid pattern", f.name, p)
					}
				}
			}
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			progress, stopProgress, err := startProgress(cmd, progressOpts)
			if err != nil {
				return err
			}
			defer stopProgress(false)
			g.progress = progress
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			var opts []blobber.PullOption
			if overwrite {
				opts = append(opts, blobber.WithOverwrite())
			}
			if dereference {
				opts = append(opts, blobber.WithDereferenceLinks())
			}
			var paths []string
			for _, p := range args[2:] {
				paths = append(paths, filepath.ToSlash(p)) // a\b on Windows
			}
			if len(paths) > 0 || len(include) > 0 || len(exclude) > 0 {
				if dereference {
					return usagef("pull: --dereference-links cannot be combined with PATHs, --include or --exclude")
				}
				opts = append(opts, blobber.WithSelect(blobber.Selection{Paths: paths, Include: include, Exclude: exclude, AllowEmpty: allowEmpty}))
			}
			var report blobber.PullReport
			opts = append(opts, blobber.WithPullReport(&report))
			desc, err := c.Pull(cmd.Context(), args[0], args[1], opts...)
			stopProgress(err == nil)
			if err != nil {
				return err
			}
			if !out.structured() {
				return out.object(nil, []string{desc.Digest.String()}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "pulled %s into %s\n", desc.Digest, args[1])
					return err
				})
			}
			return out.object(pullJSON{Reference: args[0], Digest: desc.Digest.String(), Files: report.Files, Bytes: report.Bytes, Target: args[1]}, nil, nil)
		},
	}
	cmd.ValidArgsFunction = completeArgs(g, argRef, argLocalDir)
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace existing files")
	cmd.Flags().BoolVar(&dereference, "dereference-links", false, "write each symlink as the file or directory it leads to in the artifact (for Windows without the right to create symlinks)")
	cmd.Flags().StringArrayVar(&include, "include", nil, "pull only the entries whose path matches this glob (repeatable; ** matches across directories, e.g. '**/*.md')")
	cmd.Flags().StringArrayVar(&exclude, "exclude", nil, "leave out the entries whose path matches this glob (repeatable; wins over PATHs and --include; see docs/patterns.md)")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "succeed when a PATH or --include matches nothing")
	progressOpts.register(cmd.Flags())
	return cmd
}

// pullJSON is pull's --format json (docs/json.md): the files and bytes
// written, as the artifact's table of contents counts them.
type pullJSON struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	Files     int    `json:"files"`
	Bytes     int64  `json:"bytes"`
	Target    string `json:"target"`
}

// minArgs refuses fewer than n arguments; usage names them.
func minArgs(n int, usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return usagef("expected at least %s (%s), got %d", countOf(n, "argument", "arguments"), usage, len(args))
	}
}
