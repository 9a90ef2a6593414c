package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and change the config file",
		Long: `The config file ($XDG_CONFIG_HOME/blobber/config.yaml, or the OS's config
directory) holds global flags by name, push's compression-level, and
settings of particular registries:

  concurrency: 8
  compression-level: 1
  registries:
    registry.example.com:
      ca-file: /etc/ssl/example-ca.pem
      mirrors: [mirror.example.com:5000]
    localhost:5000:
      plain-http: true

A registry's mirrors are asked first for everything read from it; what they
serve is verified by digest, and the registry itself is asked when they fail
or lack it. A mirror is trusted to resolve tags as the registry is. Pushes go
to the registry only. A registry's section has plain-http, ca-file,
cert-file, key-file and mirrors.

Every global flag --NAME also has an environment variable BLOBBER_NAME (upper
case, - as _: --plain-http is BLOBBER_PLAIN_HTTP). A flag on the command line
comes first, then the environment, then the config file, then the default.`,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "path",
			Short: "Print where the config file is",
			Args:  exactArgs(0, "none"),
			RunE: func(cmd *cobra.Command, _ []string) error {
				path, err := configPath()
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), path)
				return nil
			},
		},
		&cobra.Command{
			Use:   "list",
			Short: "List every setting, its value, and where the value came from",
			Args:  exactArgs(0, "none"),
			RunE:  func(cmd *cobra.Command, _ []string) error { return runConfigList(cmd) },
		},
		&cobra.Command{
			Use:   "get KEY",
			Short: "Print the value of a setting (a global flag's name, or registries.HOST.SETTING)",
			Args:  exactArgs(1, "KEY"),
			RunE:  func(cmd *cobra.Command, args []string) error { return runConfigGet(cmd, args[0]) },
		},
		&cobra.Command{
			Use:   "set KEY VALUE",
			Short: "Write a setting to the config file (mirrors take a comma-separated list)",
			Args:  exactArgs(2, "KEY VALUE"),
			RunE:  func(cmd *cobra.Command, args []string) error { return runConfigSet(cmd, args[0], args[1]) },
		},
	)
	return cmd
}

func runConfigList(cmd *cobra.Command) error {
	s, err := resolveSettings(cmd.Root())
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tVALUE\tFROM\tVARIABLE")
	cmd.Root().PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if isGlobalFlag(f) {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", f.Name, f.Value.String(), s.source[f.Name], envName(f.Name))
		}
	})
	for _, key := range sortedKeys(commandKeys) {
		if f := settingFlag(cmd.Root(), key); f != nil {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", f.Name, f.Value.String(), s.source[f.Name], envName(f.Name))
		}
	}
	for _, host := range sortedKeys(s.file.registries) {
		r := s.file.registries[host]
		for _, key := range registryKeys {
			if v, ok := registryValue(r, key); ok {
				fmt.Fprintf(w, "registries.%s.%s\t%s\tfile\t\n", host, key, v)
			}
		}
	}
	return w.Flush()
}

// registryValue is a registry setting as listed, and whether it is set.
func registryValue(r registrySection, key string) (string, bool) {
	switch key {
	case "plain-http":
		if r.PlainHTTP == nil {
			return "", false
		}
		return strconv.FormatBool(*r.PlainHTTP), true
	case "ca-file":
		return r.CAFile, r.CAFile != ""
	case "cert-file":
		return r.CertFile, r.CertFile != ""
	case "key-file":
		return r.KeyFile, r.KeyFile != ""
	case "mirrors":
		return strings.Join(r.Mirrors, ","), len(r.Mirrors) > 0
	}
	return "", false
}

// splitRegistryKey splits registries.HOST.SETTING; a host may hold dots.
func splitRegistryKey(key string) (host, setting string, ok bool) {
	rest, ok := strings.CutPrefix(key, "registries.")
	i := strings.LastIndex(rest, ".")
	if !ok || i <= 0 {
		return "", "", false
	}
	host, setting = rest[:i], rest[i+1:]
	for _, k := range registryKeys {
		if k == setting {
			return host, setting, true
		}
	}
	return "", "", false
}

func unknownKey(key string) error {
	return usagef("unknown setting %q: settings are global flags' names (blobber config list) and registries.HOST.SETTING, where SETTING is one of %s", key, strings.Join(registryKeys, ", "))
}

func runConfigGet(cmd *cobra.Command, key string) error {
	s, err := resolveSettings(cmd.Root())
	if err != nil {
		return err
	}
	if host, setting, ok := splitRegistryKey(key); ok {
		v, _ := registryValue(s.file.registries[host], setting)
		fmt.Fprintln(cmd.OutOrStdout(), v)
		return nil
	}
	f := settingFlag(cmd.Root(), key)
	if f == nil {
		return unknownKey(key)
	}
	fmt.Fprintln(cmd.OutOrStdout(), f.Value.String())
	return nil
}

func runConfigSet(cmd *cobra.Command, key, value string) error {
	path, err := configPath()
	if err != nil {
		return err
	}
	doc, err := readConfigDocument(path)
	if err != nil {
		return err
	}
	if host, setting, ok := splitRegistryKey(key); ok {
		val, err := registryNode(setting, value)
		if err != nil {
			return err
		}
		registries := mappingValue(doc.Content[0], "registries")
		setKey(mappingValue(registries, host), setting, val)
	} else {
		// Check the value as the flag would take it, on a fresh flag.
		f := settingFlag(newRootCmd(), key)
		if f == nil {
			return unknownKey(key)
		}
		if err := f.Value.Set(value); err != nil {
			return usagef("%s %q: %v", key, value, err)
		}
		val := &yaml.Node{Kind: yaml.ScalarNode, Value: value}
		if f.Value.Type() == "string" {
			val.Tag = "!!str"
		}
		setKey(doc.Content[0], key, val)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	// What is written must read back: a mistake is refused here, not by
	// the next command.
	if _, err := readConfigBytes(path, buf.Bytes(), cmd.Root().PersistentFlags()); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// readConfigDocument reads the config file's document for an edit, which
// keeps the keys, order and comments it holds; a missing file is an empty
// mapping.
func readConfigDocument(path string) (*yaml.Node, error) {
	doc := &yaml.Node{}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	if err := yaml.Unmarshal(data, doc); err != nil {
		return nil, usagef("config file %s: %v", path, err)
	}
	if len(doc.Content) == 0 {
		doc = &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, usagef("config file %s, line %d: the file must map keys to values", path, doc.Content[0].Line)
	}
	return doc, nil
}

// registryNode is the value of a registry setting as written.
func registryNode(setting, value string) (*yaml.Node, error) {
	switch setting {
	case "plain-http":
		if _, err := strconv.ParseBool(value); err != nil {
			return nil, usagef("plain-http %q: want true or false", value)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Value: value}, nil
	case "mirrors":
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for m := range strings.SplitSeq(value, ",") {
			if m = strings.TrimSpace(m); m != "" {
				seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m})
			}
		}
		return seq, nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}, nil
}

// mappingValue returns the mapping under key in m, adding it if needed.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.MappingNode {
			return m.Content[i+1]
		}
	}
	val := &yaml.Node{Kind: yaml.MappingNode}
	setKey(m, key, val)
	return val
}

// setKey sets key in the mapping m to val, in place when it is there.
func setKey(m *yaml.Node, key string, val *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			val.LineComment = m.Content[i+1].LineComment
			m.Content[i+1] = val
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, val)
}

// writeFileAtomic replaces path with data, readable by its owner only: a
// temporary file in the same directory, synced, then renamed, so that a
// reader sees the old file or the new one, never a part.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing config file: %w", err)
	}
	f, err := os.CreateTemp(dir, ".config.yaml.*")
	if err != nil {
		return fmt.Errorf("writing config file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("writing config file %s: %w", path, err)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
