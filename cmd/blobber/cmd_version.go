package main

import (
	"fmt"
	"io"
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
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			b := readBuild()
			v := versionJSON{Version: version(), Commit: b.commit, Built: b.date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
			return out.object(v, []string{v.Version}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "blobber %s\ncommit:   %s\nbuilt:    %s\ngo:       %s\nplatform: %s\n",
					v.Version, v.Commit, v.Built, v.Go, v.Platform)
				return err
			})
		},
	}
}

// versionJSON is version's --format json (docs/json.md).
type versionJSON struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Built    string `json:"built"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
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
