package main

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

// Dynamic completion (cobra's hidden __complete command, which the bash,
// zsh, fish and powershell scripts of `blobber completion` call on every
// Tab): tags after REPO:, paths inside an artifact, flag values, local
// directories. A completion never prints an error and never waits long:
// on any failure it offers nothing.

// completionTimeout bounds the registry requests of one completion, so
// that a slow or unreachable registry costs a short pause, not a hung
// shell.
const completionTimeout = 3 * time.Second

// completionCacheTTL is how long a completion trusts a tag's cached
// resolution: the library's cache (verified by digest, like every read)
// then serves the manifest and table of contents of the Tabs that follow
// without a request. A command that reads the artifact still asks the
// registry, as --cache-ttl says.
const completionCacheTTL = time.Minute

// argKind is what a positional argument names, for completion.
type argKind int

const (
	argNone      argKind = iota // nothing to offer, not even local files
	argRef                      // an artifact: tags after REPO:
	argPath                     // a path inside the artifact of the first argument
	argLocalDir                 // a local directory
	argLocalFile                // a local file or directory
)

// completeArgs completes the positional arguments of a command that
// takes kinds, in order.
func completeArgs(g *globalOptions, kinds ...argKind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= len(kinds) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		switch kinds[len(args)] {
		case argRef:
			return g.completeTags(cmd, toComplete)
		case argPath:
			return g.completePaths(cmd, args[0], toComplete)
		case argLocalDir:
			return nil, cobra.ShellCompDirectiveFilterDirs
		case argLocalFile:
			return nil, cobra.ShellCompDirectiveDefault
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

// registerFlagCompletions offers the values of the flags that take one
// of a few words.
func registerFlagCompletions(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]cobra.Completion{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.LocalNonPersistentFlags().Lookup("compression") != nil {
			_ = c.RegisterFlagCompletionFunc("compression", cobra.FixedCompletions([]cobra.Completion{"gzip", "zstd"}, cobra.ShellCompDirectiveNoFileComp))
			_ = c.RegisterFlagCompletionFunc("compression-level", cobra.FixedCompletions([]cobra.Completion{"1", "5", "9", "fastest", "default", "better", "best"}, cobra.ShellCompDirectiveNoFileComp))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeTags completes REPO:PREFIX to REPO:TAG with the repository's
// tags. Before the colon there is nothing to list (registries do not
// share their catalogue), except layout directories with --oci-layout.
func (g *globalOptions) completeTags(cmd *cobra.Command, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	const none = cobra.ShellCompDirectiveNoFileComp
	colon := strings.LastIndex(toComplete, ":")
	if strings.Contains(toComplete, "@") || colon < 0 || colon < strings.LastIndex(toComplete, "/") {
		if g.ociLayout {
			return nil, cobra.ShellCompDirectiveFilterDirs
		}
		return nil, none
	}
	repo, prefix := toComplete[:colon], toComplete[colon+1:]
	if repo == "" || !g.ociLayout && !strings.Contains(repo, "/") {
		return nil, none // "host:port" alone, or a name without its registry
	}
	ctx, cancel, c := g.completionClient(cmd)
	defer cancel()
	if c == nil {
		return nil, none
	}
	tags, err := c.Tags(ctx, repo)
	if err != nil {
		return nil, none
	}
	var out []cobra.Completion
	for _, tag := range tags {
		if strings.HasPrefix(tag, prefix) && completable(tag) {
			out = append(out, repo+":"+tag)
		}
	}
	return out, none
}

// completePaths completes a path inside the artifact ref one directory
// level at a time, as shells complete local paths: the entries of the
// directory toComplete is in whose names start with what follows its last
// slash, directories with a trailing slash (and no space after them, so
// that the next Tab goes on inside). Only the table of contents is read.
func (g *globalOptions) completePaths(cmd *cobra.Command, ref, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	directive := cobra.ShellCompDirectiveNoFileComp
	if !completable(toComplete) {
		return nil, directive
	}
	dir, prefix := "", toComplete
	if i := strings.LastIndex(toComplete, "/"); i >= 0 {
		dir, prefix = toComplete[:i+1], toComplete[i+1:]
	}
	ctx, cancel, c := g.completionClient(cmd)
	defer cancel()
	if c == nil {
		return nil, directive
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		return nil, directive
	}
	defer img.Close()
	entries, err := fs.ReadDir(img, cleanPath(dir))
	if err != nil {
		return nil, directive
	}
	var out []cobra.Completion
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !completable(name) {
			continue
		}
		if e.IsDir() {
			name += "/"
			directive |= cobra.ShellCompDirectiveNoSpace
		}
		out = append(out, dir+name)
	}
	return out, directive
}

// completable reports whether a name from a registry or an artifact may
// be offered to the shell as it is. A name with a control character, an
// invalid byte or anything else printable would quote is skipped: the
// completion scripts would write it to the terminal raw.
func completable(name string) bool {
	return !needsQuoting(name) && !strings.ContainsAny(name, "\t\n\r")
}

// completionClient builds a client for one completion: silent (warnings
// and errors go nowhere: the shell would print them over the prompt),
// without retries, bounded by completionTimeout, and trusting the cache's
// tags for completionCacheTTL unless --cache-ttl says otherwise. A nil
// client means there is nothing to complete with.
func (g *globalOptions) completionClient(cmd *cobra.Command) (context.Context, context.CancelFunc, *blobber.Client) {
	cmd.SetErr(io.Discard)
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, completionTimeout)
	extra := []blobber.Option{blobber.WithRetries(-1)}
	if !g.cache.off && g.cache.ttl == 0 && !cmd.Flags().Changed("cache-ttl") {
		extra = append(extra, blobber.WithCacheTTL(completionCacheTTL))
	}
	c, err := g.client(cmd, extra...)
	if err != nil {
		return ctx, cancel, nil
	}
	return ctx, cancel, c
}
