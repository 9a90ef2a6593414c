package main

import (
	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newUmountCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "umount MOUNTPOINT",
		Short: "Unmount what blobber mount mounted",
		Long: `Unmount MOUNTPOINT with fusermount3 -u, fusermount -u or umount, whichever
the system has; the blobber mount serving it then ends with status 0.`,
		Args: exactArgs(1, "MOUNTPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return blobber.Unmount(args[0])
		},
		ValidArgsFunction: completeArgs(nil, argLocalDir),
	}
}
