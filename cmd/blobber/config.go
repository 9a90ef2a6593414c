package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/blobber-dev/blobber"
)

// Settings come from, in this order of precedence: the command line, the
// environment (BLOBBER_ and the flag's name in upper case, - as _), the
// config file, and the flags' defaults. The config file holds global
// flags by name and, under registries, settings of particular registries.

// configFileName is the config file in the user's config directory.
const configFileName = "blobber/config.yaml"

// configPath is $XDG_CONFIG_HOME/blobber/config.yaml, or the same under
// ~/.config, ~/Library/Application Support or %AppData%.
func configPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config file: %w", err)
	}
	return filepath.Join(dir, filepath.FromSlash(configFileName)), nil
}

// envName is the environment variable of a global flag.
func envName(flag string) string {
	return "BLOBBER_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// registrySection is one registry's settings in the config file.
type registrySection struct {
	PlainHTTP *bool    `yaml:"plain-http"`
	CAFile    string   `yaml:"ca-file"`
	CertFile  string   `yaml:"cert-file"`
	KeyFile   string   `yaml:"key-file"`
	Mirrors   []string `yaml:"mirrors"`
}

// registryKeys are registrySection's keys, in the order they are listed.
var registryKeys = []string{"plain-http", "ca-file", "cert-file", "key-file", "mirrors"}

// configFile is the config file as read.
type configFile struct {
	path       string
	doc        *yaml.Node            // the whole document; nil when there is no file
	flags      map[string]*yaml.Node // values of global flags, by name
	registries map[string]registrySection
}

// isGlobalFlag tells whether a config file key or a variable may name f.
func isGlobalFlag(f *pflag.Flag) bool { return f != nil && f.Name != "help" && f.Name != "version" }

// readConfig reads the config file at path, which need not exist, and
// refuses keys that name no global flag of root and no registry setting.
func readConfig(path string, globals *pflag.FlagSet) (*configFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &configFile{path: path, flags: map[string]*yaml.Node{}, registries: map[string]registrySection{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	return readConfigBytes(path, data, globals)
}

// readConfigBytes reads data, the config file at path.
func readConfigBytes(path string, data []byte, globals *pflag.FlagSet) (*configFile, error) {
	cf := &configFile{path: path, flags: map[string]*yaml.Node{}, registries: map[string]registrySection{}}
	cf.doc = &yaml.Node{}
	if err := yaml.Unmarshal(data, cf.doc); err != nil {
		return nil, usagef("config file %s: %v", path, err)
	}
	top := cf.top()
	if top == nil {
		return cf, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, cf.errorAt(top, "the file must map keys to values")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := top.Content[i], top.Content[i+1]
		if seen[key.Value] {
			return nil, cf.errorAt(key, "key %q is given twice", key.Value)
		}
		seen[key.Value] = true
		switch {
		case key.Value == "registries":
			if err := cf.checkRegistries(val); err != nil {
				return nil, err
			}
		case isGlobalFlag(globals.Lookup(key.Value)) || commandKeys[key.Value] != "":
			if val.Kind != yaml.ScalarNode && val.Kind != yaml.SequenceNode {
				return nil, cf.errorAt(val, "%s takes a value or a list of values", key.Value)
			}
			cf.flags[key.Value] = val
		default:
			return nil, cf.errorAt(key, "unknown key %q (keys are global flags' names, %s, and registries)", key.Value, strings.Join(sortedKeys(commandKeys), ", "))
		}
	}
	// The keys are known by now; this decodes the registries' values, and
	// refuses values of the wrong type.
	var typed struct {
		Registries map[string]registrySection `yaml:"registries"`
		Flags      map[string]yaml.Node       `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&typed); err != nil {
		return nil, usagef("config file %s: %s", path, strings.ReplaceAll(err.Error(), "\n", ";"))
	}
	for host, r := range typed.Registries {
		if (r.CertFile == "") != (r.KeyFile == "") {
			return nil, usagef("config file %s: registries.%q: cert-file and key-file go together", path, host)
		}
		cf.registries[host] = r
	}
	return cf, nil
}

// top is the document's top node, nil for an empty file.
func (cf *configFile) top() *yaml.Node {
	if cf.doc == nil || len(cf.doc.Content) == 0 {
		return nil
	}
	return cf.doc.Content[0]
}

func (cf *configFile) errorAt(n *yaml.Node, format string, args ...any) error {
	return usagef("config file %s, line %d: %s", cf.path, n.Line, fmt.Sprintf(format, args...))
}

func (cf *configFile) checkRegistries(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return cf.errorAt(n, "registries maps registry hosts to their settings")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		host, section := n.Content[i], n.Content[i+1]
		if section.Kind != yaml.MappingNode {
			return cf.errorAt(section, "registries.%q maps settings to values", host.Value)
		}
		for j := 0; j+1 < len(section.Content); j += 2 {
			if key := section.Content[j]; !slices.Contains(registryKeys, key.Value) {
				return cf.errorAt(key, "unknown key %q in registries.%q (known: %s)", key.Value, host.Value, strings.Join(registryKeys, ", "))
			}
		}
	}
	return nil
}

// settings are the global flags' effective values and where each came
// from, and the config file's registries.
type settings struct {
	file   *configFile
	source map[string]string // flag name → "flag", "env", "file" or "default"
}

// applyConfig sets each global flag that the command line did not set
// from its environment variable, else from the config file, and keeps the
// config file's registry sections for the client. The config command
// manages the file, and does not need it to be right; help and version
// need no settings, and work whatever the file holds.
func (g *globalOptions) applyConfig(cmd *cobra.Command) error {
	for c := cmd; c.Parent() != nil; c = c.Parent() {
		if c.Parent() == cmd.Root() && slices.Contains([]string{"config", "help", "version"}, c.Name()) {
			return nil
		}
	}
	s, err := resolveSettings(cmd.Root())
	if err != nil {
		return err
	}
	g.registries = s.registryOptions()
	return nil
}

// resolveSettings applies the environment and the config file to root's
// global flags (flag > env > file > default).
func resolveSettings(root *cobra.Command) (*settings, error) {
	globals := root.PersistentFlags()
	file := &configFile{flags: map[string]*yaml.Node{}, registries: map[string]registrySection{}}
	// Without a config directory (no home) there is no file to read.
	if path, err := configPath(); err == nil {
		if file, err = readConfig(path, globals); err != nil {
			return nil, err
		}
	}
	s := &settings{file: file, source: map[string]string{}}
	var errs []error
	resolve := func(f *pflag.Flag) {
		env := envName(f.Name)
		if f.Changed {
			s.source[f.Name] = "flag"
		} else if v := os.Getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, usagef("%s=%q: %v", env, v, err))
			}
			f.Changed, s.source[f.Name] = true, "env"
			annotateOrigin(f, env)
		} else if n, ok := file.flags[f.Name]; ok {
			if err := setFromNode(f, n); err != nil {
				errs = append(errs, file.errorAt(n, "%s: %v", f.Name, err))
			}
			f.Changed, s.source[f.Name] = true, "file"
			annotateOrigin(f, fmt.Sprintf("%s (config file %s, line %d)", f.Name, file.path, n.Line))
		} else {
			s.source[f.Name] = "default"
		}
	}
	globals.VisitAll(func(f *pflag.Flag) {
		if isGlobalFlag(f) {
			resolve(f)
		}
	})
	for _, key := range sortedKeys(commandKeys) {
		if f := settingFlag(root, key); f != nil {
			resolve(f)
		}
	}
	return s, errors.Join(errs...)
}

// commandKeys are the config file's keys that set a flag of one command
// (the value) rather than a global flag; each has its environment
// variable too, as a global flag has.
var commandKeys = map[string]string{"compression-level": "push"}

// settingFlag is the flag a setting's key names: a global flag, or a
// command's flag listed in commandKeys; nil for any other key.
func settingFlag(root *cobra.Command, key string) *pflag.Flag {
	if f := root.PersistentFlags().Lookup(key); isGlobalFlag(f) {
		return f
	}
	name, ok := commandKeys[key]
	if !ok {
		return nil
	}
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c.Flags().Lookup(key)
		}
	}
	return nil
}

// originAnnotation is the flag annotation that says where a value set
// from elsewhere than the command line came from.
const originAnnotation = "blobber-origin"

func annotateOrigin(f *pflag.Flag, origin string) {
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[originAnnotation] = []string{origin}
}

// flagOrigin names where a global flag's value came from, for a message
// about it: --NAME, its environment variable, or the config file's line.
func flagOrigin(f *pflag.Flag) string {
	if origin := f.Annotations[originAnnotation]; len(origin) == 1 {
		return origin[0]
	}
	return "--" + f.Name
}

// setFromNode sets f to a scalar, or to each value of a list in turn (a
// list flag appends them).
func setFromNode(f *pflag.Flag, n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return f.Value.Set(n.Value)
	}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			return errors.New("a list of values holds only values")
		}
		if err := f.Value.Set(item.Value); err != nil {
			return err
		}
	}
	return nil
}

// fromCommandLine tells whether a flag was given on the command line or
// in the environment, which come before the config file's registries.
func (s *settings) fromCommandLine(flag string) bool {
	src := s.source[flag]
	return src == "flag" || src == "env"
}

// registryOptions are the config file's registry sections as client
// options. A section's setting stands for its registry in place of the
// global flag's, unless that flag was given on the command line or in
// the environment.
func (s *settings) registryOptions() []blobber.Option {
	var opts []blobber.Option
	for _, host := range sortedKeys(s.file.registries) {
		r := s.file.registries[host]
		rs := blobber.RegistrySettings{Mirrors: r.Mirrors}
		if !s.fromCommandLine("plain-http") {
			rs.PlainHTTP = r.PlainHTTP
		}
		if !s.fromCommandLine("ca-file") {
			rs.CAFile = r.CAFile
		}
		if !s.fromCommandLine("cert-file") && !s.fromCommandLine("key-file") {
			rs.CertFile, rs.KeyFile = r.CertFile, r.KeyFile
		}
		opts = append(opts, blobber.WithRegistry(host, rs))
	}
	return opts
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
