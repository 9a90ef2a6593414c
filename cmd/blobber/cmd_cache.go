package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/blobber-dev/blobber"
)

// cacheFlags are the global flags that steer the local cache.
type cacheFlags struct {
	dir     string
	off     bool
	ttl     time.Duration
	offline bool
	maxSize string

	maxSizeFlag *pflag.Flag // for its origin in messages (flagOrigin)
}

func (c *cacheFlags) register(f *pflag.FlagSet) {
	f.StringVar(&c.dir, "cache-dir", "", "cache directory (default $BLOBBER_CACHE_DIR, else $XDG_CACHE_HOME/blobber, else ~/.cache/blobber)")
	f.BoolVar(&c.off, "no-cache", false, "neither read nor write the local cache")
	f.DurationVar(&c.ttl, "cache-ttl", 0, "trust a cached tag for this long before asking the registry (default 0: always ask)")
	f.BoolVar(&c.offline, "offline", false, "use only the cache: no network at all")
	f.StringVar(&c.maxSize, "cache-max-size", "", "prune the least recently used cache entries past this size, e.g. 5GiB, or none (default $BLOBBER_CACHE_MAX_SIZE, else 10GiB or a tenth of the cache's file system, whichever is smaller)")
	c.maxSizeFlag = f.Lookup("cache-max-size")
}

// bound is the cache's size bound from --cache-max-size or
// $BLOBBER_CACHE_MAX_SIZE, as WithCacheMaxSize takes it: 0 for the
// default, -1 for none.
func (c *cacheFlags) bound() (int64, error) {
	s, from := c.maxSize, flagOrigin(c.maxSizeFlag)
	if s == "" {
		s, from = os.Getenv("BLOBBER_CACHE_MAX_SIZE"), "BLOBBER_CACHE_MAX_SIZE"
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return 0, nil
	case "none", "unlimited":
		return -1, nil
	}
	n, err := parseSize(s)
	if err == nil && n <= 0 {
		err = fmt.Errorf("%q is no room for a cache (use --no-cache, or none for no bound)", s)
	}
	if err != nil {
		return 0, usagef("%s: %v", from, err)
	}
	return n, nil
}

// options turns the flags into client options. A cache directory that
// cannot be found (no home directory) costs a warning on stderr, not the
// command, unless it is offline.
func (c *cacheFlags) options(stderr io.Writer) ([]blobber.Option, error) {
	if c.off {
		if c.offline {
			return nil, usagef("--offline needs the cache; drop --no-cache")
		}
		return nil, nil
	}
	dir, err := c.directory()
	if err != nil {
		if c.offline {
			return nil, fmt.Errorf("--offline needs the cache: %w", err)
		}
		fmt.Fprintf(stderr, "blobber: warning: not using the cache: %v\n", err)
		return nil, nil
	}
	bound, err := c.bound()
	if err != nil {
		return nil, err
	}
	opts := []blobber.Option{blobber.WithCache(dir), blobber.WithCacheTTL(c.ttl), blobber.WithCacheMaxSize(bound)}
	if c.offline {
		opts = append(opts, blobber.WithOffline())
	}
	return opts, nil
}

func (c *cacheFlags) directory() (string, error) {
	if c.dir != "" {
		return c.dir, nil
	}
	return blobber.DefaultCacheDir()
}

func newCacheCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Inspect, prune or clear the local cache",
	}
	asCommandGroup(cmd)
	cmd.AddCommand(newCacheInfoCmd(g), newCachePruneCmd(g), newCacheClearCmd(g))
	return cmd
}

func openCache(g *globalOptions) (*blobber.Cache, error) {
	dir, err := g.cache.directory()
	if err != nil {
		return nil, err
	}
	return blobber.OpenCache(dir)
}

func newCacheInfoCmd(g *globalOptions) *cobra.Command {
	var long bool
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show what the cache holds",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			c, err := openCache(g)
			if err != nil {
				return err
			}
			defer c.Close()
			info, err := c.Info()
			if err != nil {
				return err
			}
			bound, err := g.cache.bound()
			if err != nil {
				return err
			}
			j := cacheInfoJSON(info, bound, long)
			return out.object(j, []string{info.Dir}, func(w io.Writer) error {
				return writeCacheInfo(w, info, j, long)
			})
		},
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "list every entry")
	return cmd
}

// cacheInfoOutput is cache info's --format json (docs/json.md).
type cacheInfoOutput struct {
	Directory    string           `json:"directory"`
	Blobs        int              `json:"blobs"`
	PartialBlobs int              `json:"partialBlobs"`
	StalePartial int              `json:"stalePartial"`
	Manifests    int              `json:"manifests"`
	Tags         int              `json:"tags"`
	Trees        int              `json:"trees"`
	Shapes       int              `json:"shapes"`
	Sources      int              `json:"sources"`
	Size         int64            `json:"size"`
	Bound        int64            `json:"bound"`
	BoundDefault bool             `json:"boundDefault"`
	Entries      []cacheEntryJSON `json:"entries,omitempty"`
}

type cacheEntryJSON struct {
	Kind     string `json:"kind"`
	Entry    string `json:"entry"`
	Size     int64  `json:"size"`
	LastUsed string `json:"lastUsed"`
}

// cacheInfoJSON is info with its bound (-1 for none), and every entry
// with long.
func cacheInfoJSON(info blobber.CacheInfo, bound int64, long bool) cacheInfoOutput {
	j := cacheInfoOutput{
		Directory: info.Dir, Blobs: info.Blobs, PartialBlobs: info.PartialBlobs, StalePartial: info.StalePartial,
		Manifests: info.Manifests, Tags: info.Tags, Trees: info.Trees, Shapes: info.Shapes, Sources: info.Sources,
		Size: info.Bytes, Bound: bound,
	}
	if bound == 0 {
		j.Bound, j.BoundDefault = blobber.DefaultCacheMaxSize(info.Dir), true
	}
	if long {
		j.Entries = []cacheEntryJSON{}
		for _, e := range info.Entries {
			name := e.Digest.String()
			if e.Key != "" {
				name = e.Key
			}
			j.Entries = append(j.Entries, cacheEntryJSON{Kind: e.Kind, Entry: name, Size: e.Size, LastUsed: e.LastUsed.UTC().Format(time.RFC3339)})
		}
	}
	return j
}

func writeCacheInfo(w io.Writer, info blobber.CacheInfo, j cacheInfoOutput, long bool) error {
	fmt.Fprintf(w, "directory: %s\n", info.Dir)
	fmt.Fprintf(w, "blobs:     %d complete, %d partial\n", info.Blobs, info.PartialBlobs)
	fmt.Fprintf(w, "stale:     %d partial blobs left by killed processes (cache prune removes them)\n", info.StalePartial)
	fmt.Fprintf(w, "manifests: %d\n", info.Manifests)
	fmt.Fprintf(w, "tags:      %d\n", info.Tags)
	fmt.Fprintf(w, "trees:     %d pushed (fingerprints), %d shapes seen\n", info.Trees, info.Shapes)
	fmt.Fprintf(w, "sources:   %d blobs with known repositories (for mounts)\n", info.Sources)
	fmt.Fprintf(w, "size:      %s\n", formatSize(info.Bytes))
	switch {
	case j.Bound < 0:
		fmt.Fprintf(w, "bound:     none\n")
	case j.BoundDefault:
		fmt.Fprintf(w, "bound:     %s (default)\n", formatSize(j.Bound))
	default:
		fmt.Fprintf(w, "bound:     %s\n", formatSize(j.Bound))
	}
	if !long {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tENTRY\tSIZE\tLAST USED")
	for _, e := range info.Entries {
		name := e.Digest.String()
		if e.Key != "" {
			name = e.Key
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Kind, printable(name), formatSize(e.Size), e.LastUsed.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func newCachePruneCmd(g *globalOptions) *cobra.Command {
	var maxSize, maxAge string
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove what killed processes left, and the least recently used entries until the cache fits the limits",
		Example: `  blobber cache prune
  blobber cache prune --max-size 10GiB
  blobber cache prune --max-age 30d`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			size, err := parseSize(maxSize)
			if err != nil {
				return usagef("cache prune: --max-size: %v", err)
			}
			age, err := parseAge(maxAge)
			if err != nil {
				return usagef("cache prune: --max-age: %v", err)
			}
			c, err := openCache(g)
			if err != nil {
				return err
			}
			defer c.Close()
			n, freed, err := c.Prune(size, age)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "removed %d entries, freed %s\n", n, formatSize(freed))
			return err
		},
	}
	cmd.Flags().StringVar(&maxSize, "max-size", "", "keep the cache under this size (e.g. 500MB, 10GiB)")
	cmd.Flags().StringVar(&maxAge, "max-age", "", "remove entries unused for longer (e.g. 12h, 30d)")
	return cmd
}

func newCacheClearCmd(g *globalOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "clear",
		Short: "Remove everything from the cache",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := g.cache.directory()
			if err != nil {
				return err
			}
			if !yes {
				if !stdinIsTerminal(cmd) {
					return usagef("cache clear: stdin is not a terminal: pass -y to clear %s without a prompt", dir)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Remove everything in %s? [y/N] ", dir)
				answer, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return fmt.Errorf("cache clear: not confirmed")
				}
			}
			c, err := openCache(g)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Clear(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "cleared %s\n", dir)
			return err
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// stdinIsTerminal tells whether someone can answer a prompt on cmd's stdin:
// a terminal, not merely a character device such as /dev/null.
func stdinIsTerminal(cmd *cobra.Command) bool {
	f, ok := cmd.InOrStdin().(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// parseSize reads sizes as people write them: 1048576, 500MB, 10GiB, 2G.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || !(f >= 0) || f*float64(mult) >= math.MaxInt64 { // !(f >= 0) refuses NaN too
		return 0, fmt.Errorf("%q is not a size (try 500MB or 10GiB)", s)
	}
	return int64(f * float64(mult)), nil
}

// parseAge reads durations with days: 30d, 12h, 90m.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not an age (try 30d or 12h)", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not an age (try 30d or 12h)", s)
	}
	return d, nil
}

func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
