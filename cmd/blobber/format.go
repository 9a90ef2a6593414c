package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf16"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// registerOutputFlags adds --format and --quiet to every command. Their
// values are read back from the command's flags (output), so that no
// command needs a field of its own for them.
func registerOutputFlags(f *pflag.FlagSet) {
	f.String("format", "text", "output: text, json, or a Go template over the JSON fields (docs/json.md), e.g. '{{.digest}}'")
	f.BoolP("quiet", "q", false, "print only the essential value: the digest (push, pull, inspect, verify), paths (ls), tags (tags)")
}

// output renders a command's results in the format the flags ask for.
// JSON field names are documented in docs/json.md; a template sees the
// same fields, as ORAS's --format does.
type output struct {
	w     io.Writer
	json  bool
	tmpl  *template.Template
	quiet bool
}

// outputOf reads --format and --quiet, refusing a template that does not
// parse and the two together.
func outputOf(cmd *cobra.Command) (*output, error) {
	o := &output{w: cmd.OutOrStdout()}
	format := "text"
	if f := cmd.Flags().Lookup("format"); f != nil {
		format = f.Value.String()
	}
	if f := cmd.Flags().Lookup("quiet"); f != nil {
		o.quiet = f.Value.String() == "true"
	}
	switch {
	case format == "text" || format == "":
	case format == "json":
		o.json = true
	case strings.Contains(format, "{{"):
		t, err := template.New("format").Funcs(template.FuncMap{"json": toJSON}).Parse(format)
		if err != nil {
			return nil, usagef("--format: %v", err)
		}
		o.tmpl = t
	default:
		return nil, usagef("--format must be text, json or a Go template ({{…}}), not %q", format)
	}
	if o.quiet && (o.json || o.tmpl != nil) {
		return nil, usagef("--quiet and --format %s do not go together", format)
	}
	return o, nil
}

// structured tells whether the output is JSON or a template, for commands
// that print nothing else then (progress, summaries).
func (o *output) structured() bool { return o.json || o.tmpl != nil }

// object prints one result: indented JSON, the template applied to it,
// only essential (one value a line) with --quiet, or text.
func (o *output) object(v any, essential []string, text func(io.Writer) error) error {
	switch {
	case o.json:
		b, err := marshal(v)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		_, err = o.w.Write(buf.Bytes())
		return err
	case o.tmpl != nil:
		return o.template(v)
	case o.quiet:
		for _, s := range essential {
			if _, err := fmt.Fprintln(o.w, printable(s)); err != nil {
				return err
			}
		}
		return nil
	}
	return text(o.w)
}

// item prints one of many results (ls's entries): one compact JSON object
// a line, as docker prints lists, or the template applied to each.
func (o *output) item(v any, essential string, text func(io.Writer) error) error {
	switch {
	case o.json:
		b, err := marshal(v)
		if err != nil {
			return err
		}
		_, err = o.w.Write(append(b, '\n'))
		return err
	case o.tmpl != nil:
		return o.template(v)
	case o.quiet:
		_, err := fmt.Fprintln(o.w, printable(essential))
		return err
	}
	return text(o.w)
}

// template applies the template to v's JSON fields, so that a template
// names them as docs/json.md does ({{.digest}}), each string made
// printable as text output's names are.
func (o *output) template(v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	var fields any
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := o.tmpl.Execute(&buf, printableFields(fields)); err != nil {
		return usagef("--format: %v", err)
	}
	if buf.Len() == 0 || buf.Bytes()[buf.Len()-1] != '\n' {
		buf.WriteByte('\n')
	}
	_, err = o.w.Write(buf.Bytes())
	return err
}

// printableFields is v with every string as ls prints a name: quoted
// when it holds what a terminal would act on (printable), since a
// template's output is text, not JSON.
func printableFields(v any) any {
	switch v := v.(type) {
	case string:
		return printable(v)
	case []any:
		for i := range v {
			v[i] = printableFields(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = printableFields(v[k])
		}
	}
	return v
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeInvisible(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// escapeInvisible writes as \u escapes the characters encoding/json leaves
// raw that a terminal acts on or hides: DEL, C1 controls (CSI among them)
// and format characters such as a bidirectional override. Names from an
// artifact come out of JSON as harmless as ls prints them; outside strings
// JSON has only ASCII, so the escapes land in strings only.
func escapeInvisible(b []byte) []byte {
	if bytes.IndexFunc(b, invisible) < 0 {
		return b
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		if !invisible(r) {
			out.WriteRune(r)
			continue
		}
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&out, `\u%04x`, r)
	}
	return out.Bytes()
}

func invisible(r rune) bool {
	return r >= 0x7f && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r))
}

// toJSON is the template function json, as docker's: {{json .layers}}.
func toJSON(v any) (string, error) {
	b, err := marshal(v)
	return string(b), err
}
