package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

type syncCmdOptions struct {
	delete, dryRun, checksum bool
	include, exclude         []string
	progress                 progressFlags
}

func newSyncCmd(g *globalOptions) *cobra.Command {
	o := &syncCmdOptions{}
	cmd := &cobra.Command{
		Use:   "sync REF DIR",
		Short: "Make a directory equal to an artifact, fetching only the files that differ",
		Long: `sync makes DIR equal to the artifact REF, creating DIR if needed, and fetches
only what differs. A file whose inode, size and modification time match what
the previous sync into DIR recorded (in the cache) is taken as unchanged; a
file never seen is hashed once, and every file of the artifact's size is
hashed without a cache or with --checksum. A file whose content is already
elsewhere in DIR (a rename in the new version) is copied from there. Every
file is written under a temporary name, checked, then renamed: an
interrupted sync leaves no partial file under a final name, and running it
again finishes the job.

Paths the artifact lacks are kept unless --delete is given; they are then
removed after the new content is in place, links as links (never what they
point to). --include and --exclude (globs as pull reads them, docs/patterns.md)
limit what sync plans, writes and deletes. --dry-run prints the plan, the lines blobber diff DIR REF prints,
and changes nothing. Exit codes are pull's.`,
		Example: `  blobber sync localhost:5000/team/site:v2 ./site
  blobber sync --delete localhost:5000/team/site:v2 ./site
  blobber sync --dry-run localhost:5000/team/site:v2 ./site`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("expected 2 arguments (REF DIR), got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSync(cmd, g, o, args) },
	}
	cmd.ValidArgsFunction = completeArgs(g, argRef, argLocalDir)
	cmd.Flags().BoolVar(&o.delete, "delete", false, "remove what DIR holds that the artifact does not")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the changes a sync would make (as blobber diff DIR REF) and change nothing")
	cmd.Flags().BoolVar(&o.checksum, "checksum", false, "hash every local file of the artifact's size instead of trusting the previous sync's record")
	cmd.Flags().StringArrayVar(&o.include, "include", nil, "sync only the paths that match this glob, or lie under a directory that does (repeatable; see docs/patterns.md)")
	cmd.Flags().StringArrayVar(&o.exclude, "exclude", nil, "leave alone the paths that match this glob (repeatable; wins over --include)")
	o.progress.register(cmd.Flags())
	return cmd
}

func runSync(cmd *cobra.Command, g *globalOptions, o *syncCmdOptions, args []string) error {
	for _, f := range []struct {
		name     string
		patterns []string
	}{{"--include", o.include}, {"--exclude", o.exclude}} {
		for _, p := range f.patterns {
			if blobber.CheckPattern(p) != nil {
				return usagef("sync: %s %q: not a valid pattern", f.name, p)
			}
		}
	}
	out, err := outputOf(cmd)
	if err != nil {
		return err
	}
	progress, stopProgress, err := startProgress(cmd, o.progress)
	if err != nil {
		return err
	}
	defer stopProgress(false)
	g.progress = progress
	c, err := g.client(cmd)
	if err != nil {
		return err
	}
	var opts []blobber.SyncOption
	if o.delete {
		opts = append(opts, blobber.WithSyncDelete())
	}
	if o.dryRun {
		opts = append(opts, blobber.WithSyncDryRun())
	}
	if o.checksum {
		opts = append(opts, blobber.WithSyncChecksum())
	}
	if len(o.include) > 0 || len(o.exclude) > 0 {
		opts = append(opts, blobber.WithSyncSelect(blobber.Selection{Include: o.include, Exclude: o.exclude}))
	}
	res, err := c.Sync(cmd.Context(), args[0], args[1], opts...)
	stopProgress(err == nil)
	if err != nil {
		return err
	}
	var paths []string
	for _, ch := range res.Plan.Changes {
		paths = append(paths, ch.Path)
	}
	return out.object(syncJSONOf(args, o.dryRun, res), paths, func(w io.Writer) error {
		if o.dryRun {
			return printDiff(out, res.Plan, &diffOptions{})
		}
		_, err := fmt.Fprintf(w, "synced %s into %s: fetched %s (%d bytes read), copied %d, deleted %d, unchanged %d\n",
			res.Plan.New, args[1], countOf(res.Fetched, "file", "files"), res.FetchedBytes, res.Copied, res.Deleted, res.Unchanged)
		return err
	})
}

// syncJSON is sync's --format json (docs/json.md).
type syncJSON struct {
	Reference    string           `json:"reference"`
	Artifact     string           `json:"artifact"`
	Target       string           `json:"target"`
	DryRun       bool             `json:"dryRun"`
	Changes      []diffChangeJSON `json:"changes"`
	Fetched      int              `json:"fetched"`
	FetchedBytes int64            `json:"fetchedBytes"`
	Copied       int              `json:"copied"`
	Deleted      int              `json:"deleted"`
	Unchanged    int              `json:"unchanged"`
	Hashed       int              `json:"hashed"`
	HashedBytes  int64            `json:"hashedBytes"`
}

func syncJSONOf(args []string, dryRun bool, res *blobber.SyncResult) syncJSON {
	return syncJSON{
		Reference: args[0], Artifact: res.Plan.New, Target: args[1], DryRun: dryRun,
		Changes: diffJSONOf(res.Plan).Changes,
		Fetched: res.Fetched, FetchedBytes: res.FetchedBytes, Copied: res.Copied, Deleted: res.Deleted,
		Unchanged: res.Unchanged, Hashed: res.Hashed, HashedBytes: res.HashedBytes,
	}
}
