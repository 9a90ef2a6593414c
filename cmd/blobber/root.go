package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/blobber-dev/blobber"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	ociLayout   bool
	plainHTTP   bool
	insecure    bool
	verbose     bool
	concurrency int
	maxFiles    int
	maxBytes    int64
	retries     int
	timeout     time.Duration
}

func newRootCmd() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "blobber",
		Short: "Push directories to OCI registries and read them back file by file",
		Long: `blobber stores a directory in any OCI registry (or a local OCI image layout)
as one eStargz layer, so that its files can be listed and read one at a time
without downloading the whole artifact.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	f := root.PersistentFlags()
	f.BoolVar(&g.ociLayout, "oci-layout", false, "references are OCI image layout directories (path[:tag|@digest])")
	f.BoolVar(&g.plainHTTP, "plain-http", false, "use HTTP instead of HTTPS (the default for localhost and 127.0.0.1)")
	f.BoolVar(&g.insecure, "insecure", false, "skip TLS certificate verification")
	f.BoolVarP(&g.verbose, "verbose", "v", false, "log what blobber does to stderr")
	f.IntVar(&g.concurrency, "concurrency", 0, "parallel range requests when reading (default: 2 per CPU, at least 4)")
	f.IntVar(&g.maxFiles, "max-files", 0, "refuse artifacts with more entries (default 1000000)")
	f.Int64Var(&g.maxBytes, "max-size", 0, "refuse artifacts whose files total more bytes (default 64 GiB)")
	f.IntVar(&g.retries, "retries", 5, "retries of a failed request (408, 429, 5xx, resets, timeouts), with backoff")
	f.DurationVar(&g.timeout, "timeout", 0, "give up on the whole operation after this long (e.g. 10m; default none)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.timeout > 0 {
			ctx, cancel := context.WithTimeoutCause(cmd.Context(), g.timeout, fmt.Errorf("timed out after %s (--timeout)", g.timeout))
			cmd.SetContext(ctx)
			cobra.OnFinalize(cancel)
		}
		return nil
	}

	root.AddCommand(
		newPushCmd(g),
		newLsCmd(g),
		newCatCmd(g),
		newCpCmd(g),
		newPullCmd(g),
		newTagsCmd(g),
		newVersionCmd(),
	)
	return root
}

// client builds the library client from the shared flags.
func (g *globalOptions) client(cmd *cobra.Command) (*blobber.Client, error) {
	opts := []blobber.Option{
		blobber.WithUserAgent("blobber/" + version()),
		blobber.WithLimits(blobber.Limits{MaxFiles: g.maxFiles, MaxBytes: g.maxBytes}),
	}
	if g.ociLayout {
		opts = append(opts, blobber.WithOCILayout())
	}
	if cmd.Flags().Changed("plain-http") {
		opts = append(opts, blobber.WithPlainHTTP(g.plainHTTP))
	}
	if g.insecure {
		opts = append(opts, blobber.WithInsecureSkipVerify())
	}
	if cmd.Flags().Changed("retries") {
		n := g.retries
		if n == 0 {
			n = -1 // the library's 0 means its default
		}
		opts = append(opts, blobber.WithRetries(n))
	}
	if g.concurrency > 0 {
		opts = append(opts, blobber.WithConcurrency(g.concurrency))
	}
	if g.verbose {
		opts = append(opts, blobber.WithLogger(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	if !g.ociLayout {
		// The same credentials as docker: its config file and credential helpers.
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return nil, err
		}
		opts = append(opts, blobber.WithCredentials(credentials.Credential(store)))
	}
	return blobber.NewClient(opts...)
}

// version is set at build time with -ldflags "-X main.buildVersion=…", or
// read from the module's build information.
var buildVersion = ""

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print blobber's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write([]byte("blobber " + version() + "\n"))
			return err
		},
	}
}

func exactArgs(n int, usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expected %d arguments (%s), got %d", n, usage, len(args))
		}
		return nil
	}
}

// reportStats tells, with --verbose, how little of the layer was fetched.
func (g *globalOptions) reportStats(cmd *cobra.Command, img *blobber.Image) {
	if !g.verbose {
		return
	}
	s := img.Stats()
	fmt.Fprintf(cmd.ErrOrStderr(), "fetched %d of %d layer bytes (%.2f%%) in %d range requests\n",
		s.Bytes, s.LayerSize, 100*float64(s.Bytes)/float64(max(1, s.LayerSize)), s.Requests)
}
