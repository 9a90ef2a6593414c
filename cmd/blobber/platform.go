package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

// platformList is --platform: os/arch[/variant], several separated by
// commas or given again, each checked as it is set (a bad one is a usage
// error, exit 2, before any request).
type platformList struct{ platforms *[]string }

func (p platformList) String() string { return strings.Join(*p.platforms, ",") }
func (p platformList) Type() string   { return "os/arch[/variant]" }

func (p platformList) Set(s string) error {
	for _, one := range strings.Split(s, ",") {
		if _, err := blobber.ParsePlatform(one); err != nil {
			return err
		}
		*p.platforms = append(*p.platforms, one)
	}
	return nil
}

// platformCompletions are offered for --platform: the common ones.
var platformCompletions = []cobra.Completion{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x", "linux/riscv64"}

// registerPlatformFlags gives push the platforms it writes and the
// commands that read files the platform they take from an image index.
func (g *globalOptions) registerPlatformFlags(root *cobra.Command) {
	for _, c := range root.Commands() {
		var usage string
		switch c.Name() {
		case "push":
			usage = "the platform the image config names (default " + blobber.DefaultPlatform + ", the same from every machine); several, comma-separated, push an image index with one manifest per platform"
		case "ls", "cat", "cp", "pull", "inspect":
			usage = "of an image index, read the entry of this platform (or the first of several listed); default: the running platform's, else the first"
		default:
			continue
		}
		c.Flags().Var(platformList{&g.platforms}, "platform", usage)
		_ = c.RegisterFlagCompletionFunc("platform", cobra.FixedCompletions(platformCompletions, cobra.ShellCompDirectiveNoFileComp))
	}
}

// pushPlatformOptions are push's options for --platform.
func (g *globalOptions) pushPlatformOptions() []blobber.PushOption {
	if len(g.platforms) == 0 {
		return nil
	}
	return []blobber.PushOption{blobber.WithPlatforms(g.platforms...)}
}

// writePlatforms is inspect's text about platforms: the manifest's, and
// the index it was taken from.
func writePlatforms(line func(label, format string, args ...any), in *blobber.Inspection) {
	if in.Platform != "" {
		line("platform", "%s", printable(in.Platform))
	}
	if in.Index.Digest != "" {
		line("index", "%s (%s)", in.Index.Digest, printable(in.Index.MediaType))
		line("  platforms", "%s", printable(strings.Join(in.Platforms, ", ")))
	}
}
