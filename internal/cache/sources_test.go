package cache

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestSources(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	d := digest.FromString("layer")
	if got := c.Sources(d); got != nil {
		t.Fatalf("Sources of an unknown blob = %q", got)
	}
	for _, r := range []string{"127.0.0.1:5000/team/a", "127.0.0.1:5000/team/b", "127.0.0.1:5000/team/a"} {
		if err := c.AddSource(d, r); err != nil {
			t.Fatal(err)
		}
	}
	// Most recent first, each repository once.
	if got, want := c.Sources(d), []string{"127.0.0.1:5000/team/a", "127.0.0.1:5000/team/b"}; !slices.Equal(got, want) {
		t.Fatalf("Sources = %q, want %q", got, want)
	}
	if got := c.Sources(digest.FromString("other")); got != nil {
		t.Fatalf("Sources of another blob = %q", got)
	}

	// Only the most recent MaxSources are kept.
	for i := range MaxSources + 4 {
		if err := c.AddSource(d, fmt.Sprintf("registry.example/r%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	got := c.Sources(d)
	if len(got) != MaxSources || got[0] != fmt.Sprintf("registry.example/r%d", MaxSources+3) {
		t.Fatalf("after %d additions: %q", MaxSources+6, got)
	}

	// A record survives reopening, and Info counts it.
	c2 := openCache(t, dir)
	if !slices.Equal(c2.Sources(d), got) {
		t.Fatal("sources lost on reopening")
	}
	info, err := c2.Info()
	if err != nil || info.Sources != 1 {
		t.Fatalf("Info = %+v, %v", info, err)
	}
}

func TestAddSourceRefuses(t *testing.T) {
	c := openCache(t, t.TempDir())
	d := digest.FromString("x")
	for _, r := range []string{
		"", "registry", "/team/a", "registry/", "user:pw@registry/team/a", "https://registry/team/a",
		"registry/team a", "registry/team/a\n", "registry/" + string(make([]byte, maxRepositoryName)),
	} {
		if err := c.AddSource(d, r); err == nil {
			t.Errorf("AddSource(%q) succeeded", r)
		}
	}
	if err := c.AddSource("sha256:nothex", "registry/a"); err == nil {
		t.Error("AddSource with a bad digest succeeded")
	}
	if got := c.Sources(d); got != nil {
		t.Errorf("refused additions left %q", got)
	}
}

func TestCorruptSourcesAreDropped(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	d := digest.FromString("blob")
	path := dir + "/" + sourcePath(d.Encoded())
	for name, content := range map[string]string{
		"not JSON":          "{",
		"another digest":    `{"digest":"` + digest.FromString("other").String() + `","repositories":["r/a"]}`,
		"bad repository":    `{"digest":"` + d.String() + `","repositories":["u@r/a"]}`,
		"too many":          `{"digest":"` + d.String() + `","repositories":[` + repeatJSON(`"r/a"`, MaxSources+1) + `]}`,
		"a directory":       "",
		"a symlink to JSON": "",
	} {
		t.Run(name, func(t *testing.T) {
			os.RemoveAll(path)
			switch name {
			case "a directory":
				must(t, os.Mkdir(path, 0o700))
			case "a symlink to JSON":
				good := dir + "/elsewhere.json"
				must(t, os.WriteFile(good, []byte(`{"digest":"`+d.String()+`","repositories":["r/a"]}`), 0o600))
				must(t, os.Symlink(good, path))
			default:
				must(t, os.WriteFile(path, []byte(content), 0o600))
			}
			if got := c.Sources(d); got != nil {
				t.Fatalf("Sources = %q", got)
			}
			if exists(path) {
				t.Fatal("the bad record was not removed")
			}
			// And a new record can be written in its place.
			must(t, c.AddSource(d, "r/b"))
			if got := c.Sources(d); !slices.Equal(got, []string{"r/b"}) {
				t.Fatalf("after AddSource: %q", got)
			}
		})
	}
}

// Processes recording sources of one blob at once lose none: the record
// is updated under the blob's lock.
func TestConcurrentAddSource(t *testing.T) {
	dir := t.TempDir()
	d := digest.FromString("shared")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			// A cache of its own, as another process would have.
			c, err := Open(dir)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if err := c.AddSource(d, fmt.Sprintf("registry.example/r%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := openCache(t, dir).Sources(d); len(got) != 8 {
		t.Fatalf("Sources = %q, want all 8", got)
	}
}

func TestClearRemovesSources(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	d := digest.FromString("blob")
	must(t, c.AddSource(d, "registry.example/a"))
	must(t, c.Clear())
	if got := c.Sources(d); got != nil {
		t.Fatalf("after Clear: %q", got)
	}
}

func repeatJSON(s string, n int) string {
	out := s
	for range n - 1 {
		out += "," + s
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
