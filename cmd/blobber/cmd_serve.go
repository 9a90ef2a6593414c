package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

type serveOptions struct {
	addr      string
	noListing bool
	follow    bool
	refresh   time.Duration
}

// shutdownGrace is how long a stopped server waits for the requests in
// flight before it drops them.
const shutdownGrace = 10 * time.Second

func newServeCmd(g *globalOptions) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve REF",
		Short: "Serve an artifact's files over HTTP, fetching each file's chunks only when it is requested",
		Long: `serve answers HTTP GET and HEAD requests with the artifact's files,
read-only. Nothing of the layer is fetched until a file is requested, and
then only the chunks the request's range covers, each verified. Range
requests, ETags (the file's digest), If-None-Match and Last-Modified (when
the push kept times) work; a directory is served by its index.html, else by
a listing. It listens on loopback unless --addr says otherwise, prints the
URL, and stops gracefully on Ctrl-C or SIGTERM. With --follow, the tag is
resolved again every --refresh, and the artifact it names next is served
from then on; requests in flight finish on the one they began on.`,
		Example: `  blobber serve ghcr.io/acme/site:v1
  blobber serve --addr 127.0.0.1:0 --follow --refresh 10s ghcr.io/acme/site:latest`,
		Args: exactArgs(1, "REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd, g, o, args[0])
		},
		ValidArgsFunction: completeArgs(g, argRef),
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	f.BoolVar(&o.noListing, "no-listing", false, "answer 403 for a directory without index.html instead of listing it")
	f.BoolVar(&o.follow, "follow", false, "resolve the tag again every --refresh and serve what it names then")
	f.DurationVar(&o.refresh, "refresh", 30*time.Second, "with --follow, how often to resolve the tag again")
	return cmd
}

func runServe(cmd *cobra.Command, g *globalOptions, o *serveOptions, ref string) error {
	if cmd.Flags().Changed("refresh") && !o.follow {
		return usagef("--refresh goes with --follow")
	}
	if o.follow && o.refresh <= 0 {
		return usagef("--refresh must be positive, not %s", o.refresh)
	}
	out, err := outputOf(cmd)
	if err != nil {
		return err
	}
	if out.structured() {
		return usagef("serve prints only the URL it serves on: use -q for the URL alone, not --format")
	}
	var opts []blobber.ServeOption
	if o.noListing {
		opts = append(opts, blobber.WithoutListing())
	}
	if g.debug {
		opts = append(opts, blobber.WithRequestLogger(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	c, err := g.client(cmd)
	if err != nil {
		return err
	}
	// Ctrl-C cancels the command's context. While the artifact is opened
	// that ends the command; afterwards it only stops the server, and
	// the reads of the requests still in flight go on until they finish.
	ctx := cmd.Context()
	reads, stopReads := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReads()
	detach := context.AfterFunc(ctx, stopReads)
	served, err := openServed(reads, c, ref, o, opts)
	detach()
	if err != nil {
		return err
	}
	defer served.close()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	url := "http://" + ln.Addr().String() + "/"
	if host, _, err := net.SplitHostPort(o.addr); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			if host != "localhost" {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: listening on %s: whoever can reach this address can read the artifact\n", o.addr)
			}
		}
	}
	if out.quiet {
		fmt.Fprintln(cmd.OutOrStdout(), url)
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "serving %s on %s\n", printable(served.name), url)
	}
	srv := &http.Server{Handler: served.handler, ReadHeaderTimeout: 30 * time.Second}
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Serve(ln) }()
	select {
	case err := <-stopped:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(grace); err != nil {
		srv.Close()
		fmt.Fprintf(cmd.ErrOrStderr(), "stopped with requests still in flight after %s\n", shutdownGrace)
	}
	if err := <-stopped; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if served.img != nil {
		g.reportStats(cmd, served.img)
	}
	return nil
}

// servedArtifact is what serve serves: one artifact, or with --follow
// what a tag names from time to time (img is nil then).
type servedArtifact struct {
	handler http.Handler
	name    string
	img     *blobber.Image
	close   func()
}

// openServed opens the artifact ref names, or with --follow what its tag
// names from time to time.
func openServed(ctx context.Context, c *blobber.Client, ref string, o *serveOptions, opts []blobber.ServeOption) (*servedArtifact, error) {
	if o.follow {
		f, err := c.Follow(ctx, ref, o.refresh, opts...)
		if err != nil {
			return nil, err
		}
		name := ref + " (following; now " + f.Descriptor().Digest.String() + ")"
		return &servedArtifact{handler: f, name: name, close: func() { f.Close() }}, nil
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	return &servedArtifact{handler: img.Handler(opts...), name: img.Name(), img: img, close: func() { img.Close() }}, nil
}
