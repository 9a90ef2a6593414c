package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	ociLayout      bool
	plainHTTP      bool
	insecure       bool
	caFile         string
	certFile       string
	keyFile        string
	registryConfig string
	verbose        bool
	debug          bool
	concurrency    int
	maxFiles       int
	maxBytes       int64
	maxTOCBytes    int64
	retries        int
	timeout        time.Duration
	cache          cacheFlags
	progress       blobber.Option // set by commands that draw progress bars
	verify         verifyFlags    // signature policy of the reading commands (cmd_verify.go)
	platforms      []string       // --platform of push and of the commands that read files (platform.go)

	registries []blobber.Option // the config file's registry sections (config.go)

	// credentialHosts are the registries that asked for credentials, and
	// whether any were stored: the hint for an authentication failure.
	credMu          sync.Mutex
	credentialHosts map[string]bool
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
	asCommandGroup(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	g.registerGlobalFlags(root.PersistentFlags())
	registerOutputFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := g.applyConfig(cmd); err != nil {
			return err
		}
		if (g.certFile == "") != (g.keyFile == "") {
			return usagef("--cert-file and --key-file go together")
		}
		if err := g.checkNotNegative(); err != nil {
			return err
		}
		if err := g.checkFilesExist(cmd); err != nil {
			return err
		}
		if g.timeout > 0 {
			ctx, cancel := context.WithTimeoutCause(cmd.Context(), g.timeout, fmt.Errorf("timed out after %s (--timeout)", g.timeout))
			cmd.SetContext(ctx)
			cobra.OnFinalize(cancel)
		}
		return nil
	}

	// The commands that read an artifact or its signatures take the
	// verification policy; the others do not list it.
	readers := []*cobra.Command{
		newLsCmd(g),
		newCatCmd(g),
		newCpCmd(g),
		newPullCmd(g),
		newVerifyCmd(g),
		newSignaturesCmd(g),
		newInspectCmd(g),
		newDiffCmd(g),
		newSyncCmd(g),
		newMountCmd(g),
		newServeCmd(g),
	}
	for _, c := range readers {
		g.verify.register(c.Flags())
	}
	root.AddCommand(readers...)
	root.AddCommand(
		newPushCmd(g),
		newCopyCmd(g),
		newTagsCmd(g),
		newLoginCmd(g),
		newLogoutCmd(g),
		newCacheCmd(g),
		newSignCmd(g),
		newVersionCmd(),
		newConfigCmd(),
		newUmountCmd(),
	)
	g.registerPlatformFlags(root)
	registerFlagCompletions(root)
	// Name the registry in the hint of an authentication failure.
	for _, c := range root.Commands() {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error { return g.explainAuth(run(cmd, args)) }
		}
	}
	return root
}

// registerGlobalFlags registers every flag all commands share, in one
// place: TLS, credentials, limits, retries, the cache. Flags that belong to
// some commands only (verification, signing) are registered by those.
func (g *globalOptions) registerGlobalFlags(f *pflag.FlagSet) {
	f.BoolVar(&g.ociLayout, "oci-layout", false, "references are OCI image layout directories (path[:tag|@digest])")
	f.BoolVar(&g.plainHTTP, "plain-http", false, "use HTTP instead of HTTPS (default: HTTPS, except HTTP for a localhost or 127.0.0.1 registry that does not speak TLS)")
	f.BoolVar(&g.insecure, "insecure", false, "skip TLS certificate verification")
	f.StringVar(&g.caFile, "ca-file", "", "trust the CA certificates in this PEM file for registries' TLS certificates")
	f.StringVar(&g.certFile, "cert-file", "", "client certificate (PEM) for registries that require one; with --key-file")
	f.StringVar(&g.keyFile, "key-file", "", "private key (PEM) of --cert-file")
	f.StringVar(&g.registryConfig, "registry-config", "", "docker config file with registry credentials, which must exist unless login creates it (default $BLOBBER_REGISTRY_CONFIG, else $DOCKER_CONFIG/config.json or ~/.docker/config.json)")
	f.BoolVarP(&g.verbose, "verbose", "v", false, "log what blobber does to stderr")
	f.BoolVar(&g.debug, "debug", false, "log every HTTP request, the plain-HTTP fallback and cache hits and misses to stderr (never credentials)")
	f.IntVar(&g.concurrency, "concurrency", 0, "parallel range requests when reading (default: 2 per CPU, from 4 to 16)")
	f.IntVar(&g.maxFiles, "max-files", 0, "refuse artifacts with more entries (default 1000000)")
	f.Var(sizeFlag{&g.maxBytes}, "max-total-size", "refuse artifacts whose files total more, e.g. 100GiB (default 64GiB)")
	f.Var(sizeFlag{&g.maxBytes}, "max-size", "")
	_ = f.MarkDeprecated("max-size", "use --max-total-size") // cache prune has its own --max-size
	f.Var(sizeFlag{&g.maxTOCBytes}, "max-toc-size", "refuse artifacts whose table of contents is larger, e.g. 256MiB (default 384 bytes per entry --max-files allows, at most 128MiB)")
	f.IntVar(&g.retries, "retries", 5, "retries of a failed request (408, 429, 5xx, resets, timeouts), with backoff; 0 for none")
	f.DurationVar(&g.timeout, "timeout", 0, "give up on the whole operation after this long (e.g. 10m; default none)")
	g.cache.register(f)
}

// client builds the library client from the shared flags.
func (g *globalOptions) client(cmd *cobra.Command, extra ...blobber.Option) (*blobber.Client, error) {
	opts := []blobber.Option{
		blobber.WithUserAgent("blobber/" + version()),
		blobber.WithLimits(blobber.Limits{MaxFiles: g.maxFiles, MaxBytes: g.maxBytes, MaxTOCBytes: g.maxTOCBytes}),
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
	if g.caFile != "" {
		opts = append(opts, blobber.WithCAFile(g.caFile))
	}
	if g.certFile != "" || g.keyFile != "" {
		opts = append(opts, blobber.WithClientCert(g.certFile, g.keyFile))
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
	} else {
		opts = append(opts, blobber.WithLogger(newWarningLogger(cmd.ErrOrStderr())))
	}
	opts = append(opts, g.debugOptions(cmd)...)
	if len(g.platforms) > 0 && cmd.Name() != "push" {
		opts = append(opts, blobber.WithPlatform(g.platforms...))
	}
	if !g.ociLayout {
		// The same credentials as docker: its config file and credential helpers.
		store, err := g.credentialStore()
		if err != nil {
			return nil, err
		}
		opts = append(opts, blobber.WithCredentials(g.recordCredentialHosts(store.Credential())))
	}
	cacheOpts, err := g.cache.options(cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	opts = append(opts, cacheOpts...)
	if g.progress != nil {
		opts = append(opts, g.progress)
	}
	verifyOpts, err := g.verify.option(cmd.Flags())
	if err != nil {
		return nil, err
	}
	opts = append(opts, verifyOpts...)
	opts = append(opts, g.registries...)
	return blobber.NewClient(append(opts, extra...)...)
}

// credentialStore opens the docker config file that holds credentials.
func (g *globalOptions) credentialStore() (*blobber.CredentialStore, error) {
	path := g.registryConfig
	if path == "" {
		path = os.Getenv("BLOBBER_REGISTRY_CONFIG")
	}
	return blobber.OpenCredentialStore(path) // "" is docker's own
}

// recordCredentialHosts notes which registries asked for credentials.
func (g *globalOptions) recordCredentialHosts(fn auth.CredentialFunc) auth.CredentialFunc {
	return func(ctx context.Context, host string) (auth.Credential, error) {
		cred, err := fn(ctx, host)
		if host == "registry-1.docker.io" {
			host = "docker.io" // what users log in to
		}
		g.credMu.Lock()
		if g.credentialHosts == nil {
			g.credentialHosts = map[string]bool{}
		}
		g.credentialHosts[host] = g.credentialHosts[host] || cred != auth.EmptyCredential
		g.credMu.Unlock()
		return cred, err
	}
}

// explainAuth attaches to err the registry that asked for credentials
// (when exactly one did), for the hint reportError gives on an
// authentication failure.
func (g *globalOptions) explainAuth(err error) error {
	if err == nil {
		return nil
	}
	g.credMu.Lock()
	defer g.credMu.Unlock()
	if len(g.credentialHosts) != 1 {
		return err
	}
	for host, stored := range g.credentialHosts {
		return &authContext{host: host, stored: stored, err: err}
	}
	return err
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

// exactArgs refuses any number of arguments but n; usage names them.
func exactArgs(n int, usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) == n:
			return nil
		case n == 0:
			return usagef("takes no arguments, got %d", len(args))
		}
		return usagef("expected %s (%s), got %d", countOf(n, "argument", "arguments"), usage, len(args))
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

// open opens the artifact ref for a command that reads it.
func (g *globalOptions) open(cmd *cobra.Command, ref string) (*blobber.Image, error) {
	c, err := g.client(cmd)
	if err != nil {
		return nil, err
	}
	return c.Open(cmd.Context(), ref)
}

// checkNotNegative refuses negative numbers in the flags that take a count,
// a size or a duration, in the flags' own names.
func (g *globalOptions) checkNotNegative() error {
	for _, f := range []struct {
		name string
		n    int64
	}{
		{"--concurrency", int64(g.concurrency)},
		{"--max-files", int64(g.maxFiles)},
		{"--retries", int64(g.retries)},
		{"--timeout", int64(g.timeout)},
		{"--cache-ttl", int64(g.cache.ttl)},
	} {
		if f.n < 0 {
			return usagef("%s cannot be negative", f.name)
		}
	}
	return nil
}

// checkFilesExist refuses, as a usage error naming the flag and the file,
// a file flag that names no file, before any request. A --registry-config
// file must exist unless the command creates it (login): a misspelt name
// would otherwise mean no credentials at all. The default config files may
// be missing, as on a machine that never logged in.
func (g *globalOptions) checkFilesExist(cmd *cobra.Command) error {
	registryConfig := g.registryConfig
	if cmd.Name() == "login" && cmd.Parent() == cmd.Root() {
		registryConfig = ""
	}
	for _, f := range []struct{ flag, path string }{
		{"--ca-file", g.caFile}, {"--cert-file", g.certFile}, {"--key-file", g.keyFile},
		{"--registry-config", registryConfig},
	} {
		if f.path == "" {
			continue
		}
		if err := checkFileFlag(f.flag, f.path); err != nil {
			return err
		}
	}
	return nil
}

// checkFileFlag refuses a path given to flag that is not a readable file.
func checkFileFlag(flag, path string) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usagef("%s %s: no such file", flag, path)
	case err != nil:
		return usagef("%s %s: %v", flag, path, errors.Unwrap(err))
	case info.IsDir():
		return usagef("%s %s: is a directory, not a file", flag, path)
	}
	return nil
}
