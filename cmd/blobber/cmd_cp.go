package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newCpCmd(g *globalOptions) *cobra.Command {
	var progressOpts progressFlags
	cmd := &cobra.Command{
		Use:   "cp REF PATH DEST",
		Short: "Copy one file out of an artifact, fetching only its chunks",
		Long: `Copy one file out of an artifact to DEST (a file, or an existing directory
to copy into; - writes it to stdout, as cat does). The file appears under
its final name only once all of it has been fetched and verified.`,
		Args: exactArgs(3, "REF PATH DEST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			progress, stopProgress, err := startProgress(cmd, progressOpts)
			if err != nil {
				return err
			}
			defer stopProgress(false)
			g.progress = progress
			img, err := g.open(cmd, args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			err = copyOut(cmd, img, cleanPath(args[1]), args[2])
			stopProgress(err == nil)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			g.reportStats(cmd, img)
			return nil
		},
		ValidArgsFunction: completeArgs(g, argRef, argPath, argLocalFile),
	}
	progressOpts.register(cmd.Flags())
	return cmd
}

// copyOut copies name to dest, into dest when it is a directory, or to
// stdout when dest is "-".
func copyOut(cmd *cobra.Command, img *blobber.Image, name, dest string) error {
	if err := refuseDirectory(cmd, img, name); err != nil {
		return err
	}
	if dest == "-" {
		return writeFileTo(cmd.OutOrStdout(), img, name)
	}
	if st, err := os.Stat(dest); err == nil && st.IsDir() {
		dest = filepath.Join(dest, path.Base(name))
	}
	return img.CopyFile(cmd.Context(), name, dest)
}

// refuseDirectory refuses, as a usage error the same for cat and cp, a
// path that names a directory of the artifact.
func refuseDirectory(cmd *cobra.Command, img *blobber.Image, name string) error {
	info, err := img.Stat(name)
	if err != nil {
		return err
	}
	if info.IsDir() {
		return usagef("%s: %s is a directory (use pull for directories)", cmd.Name(), printable(name))
	}
	return nil
}

// writeFileTo writes the artifact's file name to w, buffered.
func writeFileTo(w io.Writer, img *blobber.Image, name string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := img.WriteFileTo(bw, name); err != nil {
		return err
	}
	return bw.Flush()
}

// cleanPath accepts the spellings users type for a path in an artifact:
// "/a/b", "./a/b", "a/b/".
func cleanPath(p string) string {
	p = path.Clean("/" + strings.ReplaceAll(p, "\\", "/"))
	if p == "/" {
		return "."
	}
	return p[1:]
}
