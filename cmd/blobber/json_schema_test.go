package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/rogpeppe/go-internal/testscript"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// documentedField is one row of a command's table in docs/json.md.
type documentedField struct {
	kind     string // string, number, boolean, array, object, map, document
	optional bool
}

var (
	sectionHeading = regexp.MustCompile("^## `blobber ([a-z ]+)`")
	fieldRow       = regexp.MustCompile("^\\| `([A-Za-z0-9.\\[\\]]+)` \\| ([a-z]+) \\| (.*)\\|$")
)

// readJSONDoc reads the field tables of docs/json.md, by command.
func readJSONDoc(t testing.TB) map[string]map[string]documentedField {
	f, err := os.Open("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc := map[string]map[string]documentedField{}
	var section string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := sectionHeading.FindStringSubmatch(sc.Text()); m != nil {
			section = m[1]
			doc[section] = map[string]documentedField{}
			continue
		}
		if m := fieldRow.FindStringSubmatch(sc.Text()); m != nil && section != "" {
			doc[section][m[1]] = documentedField{kind: m[2], optional: strings.HasPrefix(strings.TrimSpace(m[3]), "*optional*")}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(doc) == 0 {
		t.Fatal("docs/json.md documents no command")
	}
	return doc
}

// fieldPaths adds to seen the paths of v's fields, as docs/json.md names
// them (a.b, a[].b), without descending into maps and documents.
func fieldPaths(v any, prefix string, fields map[string]documentedField, seen map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			seen[p] = true
			if kind := fields[p].kind; kind == "map" || kind == "document" {
				continue
			}
			fieldPaths(child, p, fields, seen)
		}
	case []any:
		for _, child := range v {
			fieldPaths(child, prefix+"[]", fields, seen)
		}
	}
}

// TestJSONSchema runs every command that prints JSON
// (testdata/schema/*.txtar) and holds each output to docs/json.md: the
// command `json-schema COMMAND FILE...` fails on a field the document does
// not list, or a field it lists as always present that the output lacks;
// at the end, every documented command must have been checked and every
// optional field seen at least once.
func TestJSONSchema(t *testing.T) {
	doc := readJSONDoc(t)
	var mu sync.Mutex
	seen := map[string]map[string]bool{}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, section := range slices.Sorted(maps.Keys(doc)) {
			if seen[section] == nil {
				t.Errorf("docs/json.md documents `blobber %s`, whose output no script checked", section)
				continue
			}
			for _, field := range slices.Sorted(maps.Keys(doc[section])) {
				if !seen[section][field] {
					t.Errorf("blobber %s: documented field %s never appeared in its output", section, field)
				}
			}
		}
	})
	reg := registrytest.Start(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/schema",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg.Host())
			env.Setenv("DOCKER_CONFIG", env.WorkDir+"/.docker")
			env.Setenv("BLOBBER_CACHE_DIR", env.WorkDir+"/.cache/blobber")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"gen-key":          genKey,
			"annotate":         annotate,
			"push-plain-image": pushPlainImage,
			"json-schema": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: json-schema COMMAND FILE...")
				}
				section := args[0]
				fields, ok := doc[section]
				if !ok {
					ts.Fatalf("docs/json.md does not document `blobber %s`", section)
				}
				here := map[string]bool{}
				for _, file := range args[1:] {
					dec := json.NewDecoder(bytes.NewReader([]byte(ts.ReadFile(file))))
					n := 0
					for {
						var v any
						err := dec.Decode(&v)
						if errors.Is(err, io.EOF) {
							break
						}
						ts.Check(err)
						n++
						one := map[string]bool{}
						fieldPaths(v, "", fields, one)
						for field, f := range fields {
							if !f.optional && !one[field] && parentPresent(field, one) {
								ts.Fatalf("%s: blobber %s printed no %s, which docs/json.md documents", file, section, field)
							}
						}
						for field := range one {
							here[field] = true
						}
					}
					if n == 0 {
						ts.Fatalf("%s holds no JSON", file)
					}
				}
				for _, field := range slices.Sorted(maps.Keys(here)) {
					if _, ok := fields[field]; !ok {
						ts.Fatalf("blobber %s printed field %s, which docs/json.md does not document", section, field)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if seen[section] == nil {
					seen[section] = map[string]bool{}
				}
				for field := range here {
					seen[section][field] = true
				}
			},
		},
	})
}

// parentPresent tells whether the object holding field was printed: the
// fields of an array's elements are required only when it has any.
func parentPresent(field string, printed map[string]bool) bool {
	i := strings.LastIndex(field, ".")
	if i < 0 {
		return true
	}
	parent := strings.TrimSuffix(field[:i], "[]")
	if !strings.HasSuffix(field[:i], "[]") {
		return printed[parent]
	}
	for p := range printed {
		if strings.HasPrefix(p, field[:i]+".") {
			return true
		}
	}
	return false
}

// annotate tags, as args[1], a copy of the manifest args[0] names with an
// artifact type and annotations (a creation time among them), the
// metadata a push can be asked to record.
func annotate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: annotate SRC-REF DST-TAG")
	}
	ref, err := registry.ParseReference(args[0])
	ts.Check(err)
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	ts.Check(err)
	repo.PlainHTTP = true
	ctx := context.Background()
	_, raw, err := oras.FetchBytes(ctx, repo, ref.Reference, oras.DefaultFetchBytesOptions)
	ts.Check(err)
	var m ocispec.Manifest
	ts.Check(json.Unmarshal(raw, &m))
	m.ArtifactType = "application/vnd.example.site"
	m.Annotations = map[string]string{
		ocispec.AnnotationCreated: "2026-12-06T05:00:00Z",
		ocispec.AnnotationSource:  "https://example.com/site",
	}
	raw, err = json.Marshal(m)
	ts.Check(err)
	_, err = oras.TagBytes(ctx, repo, ocispec.MediaTypeImageManifest, raw, args[1])
	ts.Check(err)
}
