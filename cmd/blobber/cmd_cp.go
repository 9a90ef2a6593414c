package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newCpCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cp REF PATH DEST",
		Short: "Copy one file out of an artifact, fetching only its chunks",
		Long: `Copy one file out of an artifact to DEST (a file, or an existing directory
to copy into). The file appears under its final name only once all of it
has been fetched and verified.`,
		Args: exactArgs(3, "REF PATH DEST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := g.open(cmd, args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			if err := copyOut(cmd.Context(), img, cleanPath(args[1]), args[2]); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			g.reportStats(cmd, img)
			return nil
		},
	}
}

// copyOut copies name to dest, or into dest when it is a directory.
func copyOut(ctx context.Context, img *blobber.Image, name, dest string) error {
	info, err := img.Stat(name)
	if err != nil {
		return err
	}
	if info.IsDir() {
		return usagef("cp: %s is a directory (use pull for directories)", name)
	}
	if st, err := os.Stat(dest); err == nil && st.IsDir() {
		dest = filepath.Join(dest, path.Base(name))
	}
	return img.CopyFile(ctx, name, dest)
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
