package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print blobber's version, the commit and Go it was built from, and the platform",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuild()
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "blobber %s\ncommit:   %s\nbuilt:    %s\ngo:       %s\nplatform: %s\n",
				version(), b.commit, b.date, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
			return err
		},
	}
}

// build is what the Go toolchain recorded of the checkout it built from.
type build struct {
	commit string // "unknown" outside a git checkout; "-dirty" when it had changes
	date   string // the commit's time, which a reproducible build can name
}

func readBuild() build {
	b := build{commit: "unknown", date: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.commit = s.Value
		case "vcs.time":
			b.date = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && b.commit != "unknown" {
		b.commit += "-dirty"
	}
	return b
}
