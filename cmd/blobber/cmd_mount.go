package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newMountCmd(g *globalOptions) *cobra.Command {
	var allowOther bool
	cmd := &cobra.Command{
		Use:   "mount REF MOUNTPOINT",
		Short: "Mount an artifact read-only (FUSE), fetching each file's chunks as they are read",
		Long: `Mount an artifact read-only at MOUNTPOINT, an existing directory, and serve
it until Ctrl-C, SIGTERM or "blobber umount MOUNTPOINT", which unmount it
and end the command with status 0. Listing and stat cost nothing more than
the table of contents; reading a file fetches and verifies only the chunks
read, through the cache, and a chunk that does not verify fails the read
with EIO. Needs FUSE: /dev/fuse and, unless run as root, fusermount3
(Debian's fuse3) on Linux; macFUSE on macOS.`,
		Args: exactArgs(2, "REF MOUNTPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []blobber.MountOption
			if allowOther {
				opts = append(opts, blobber.WithAllowOther())
			}
			return runMount(cmd, g, args[0], args[1], opts)
		},
		ValidArgsFunction: completeArgs(g, argRef, argLocalDir),
	}
	cmd.Flags().BoolVar(&allowOther, "allow-other", false, "let other users read the mount (a user other than root needs user_allow_other in /etc/fuse.conf)")
	return cmd
}

func runMount(cmd *cobra.Command, g *globalOptions, ref, dir string, opts []blobber.MountOption) error {
	img, err := g.open(cmd, ref)
	if err != nil {
		return err
	}
	defer img.Close()
	m, err := img.Mount(dir, opts...)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "mounted %s at %s (Ctrl-C or blobber umount %s to unmount)\n", img.Name(), dir, dir)
	unmounted := make(chan struct{})
	go func() {
		m.Wait()
		close(unmounted)
	}()
	ctx := cmd.Context()
	select {
	case <-ctx.Done():
	case <-unmounted: // by blobber umount or fusermount3 -u
	}
	if err := m.Unmount(); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "unmounted %s\n", dir)
	// A signal ends the mount as it should; only --timeout is an error.
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return context.Cause(ctx)
	}
	return nil
}
