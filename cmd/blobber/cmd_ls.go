package main

import (
	"bufio"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newLsCmd(g *globalOptions) *cobra.Command {
	var long bool
	cmd := &cobra.Command{
		Use:   "ls REF",
		Short: "List the files of an artifact (reads only its table of contents)",
		Args:  exactArgs(1, "REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := g.open(cmd, args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			if err := listImage(cmd, img, long); err != nil {
				return err
			}
			g.reportStats(cmd, img)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "show type, mode and size")
	return cmd
}

func listImage(cmd *cobra.Command, img *blobber.Image, long bool) error {
	w := bufio.NewWriter(cmd.OutOrStdout())
	err := fs.WalkDir(img, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		if !long {
			_, err := fmt.Fprintln(w, printable(name))
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %12d  %s", modeString(info.Mode()), info.Size(), printable(name))
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := img.ReadLink(name)
			if err != nil {
				return err
			}
			line += " -> " + printable(target)
		}
		_, err = fmt.Fprintln(w, line)
		return err
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// modeString is ls -l's spelling of a mode ("lrwxrwxrwx" where Go says "L").
func modeString(m fs.FileMode) string {
	s := m.String()
	switch {
	case m&fs.ModeSymlink != 0:
		return "l" + s[len(s)-9:]
	case m&fs.ModeCharDevice != 0:
		return "c" + s[len(s)-9:]
	case m&fs.ModeDevice != 0:
		return "b" + s[len(s)-9:]
	case m&fs.ModeNamedPipe != 0:
		return "p" + s[len(s)-9:]
	case m.IsDir():
		return "d" + s[len(s)-9:]
	}
	return "-" + s[len(s)-9:]
}
