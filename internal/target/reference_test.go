package target

import (
	"errors"
	"testing"
)

func TestParseRegistry(t *testing.T) {
	for in, want := range map[string][3]string{
		"alpine":                            {"docker.io", "library/alpine", ""},
		"team/files:v1":                     {"docker.io", "team/files", "v1"},
		"ghcr.io/acme/site:v1":              {"ghcr.io", "acme/site", "v1"},
		"localhost:5000/a/b":                {"localhost:5000", "a/b", ""},
		"127.0.0.1:5000/a@sha256:" + hex64:  {"127.0.0.1:5000", "a", "sha256:" + hex64},
		"r.io/a:tag@sha256:" + hex64:        {"r.io", "a", "sha256:" + hex64},
		"[::1]:5000/x/y:latest":             {"[::1]:5000", "x/y", "latest"},
		"registry.example.com/deep/ly/nest": {"registry.example.com", "deep/ly/nest", ""},
	} {
		r, err := ParseRegistry(in)
		if err != nil {
			t.Errorf("ParseRegistry(%q): %v", in, err)
			continue
		}
		if got := [3]string{r.Registry, r.Repository, r.Reference}; got != want {
			t.Errorf("ParseRegistry(%q) = %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"", "Bad Ref!!", "upper/Case", "a/b:", "a/b@sha256:short", "a/b:tag with space", "-a/b"} {
		if _, err := ParseRegistry(bad); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("ParseRegistry(%q) accepted", bad)
		}
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseLayout(t *testing.T) {
	for in, want := range map[string][2]string{
		"layout":                       {"layout", ""},
		"layout:v1":                    {"layout", "v1"},
		"./a/b:v1":                     {"./a/b", "v1"},
		"/abs/dir":                     {"/abs/dir", ""},
		"dir:with/colon":               {"dir:with/colon", ""},
		"layout@sha256:" + hex64:       {"layout", "sha256:" + hex64},
		"/tmp/x.y-z/layout:v1.2.3-rc1": {"/tmp/x.y-z/layout", "v1.2.3-rc1"},
	} {
		dir, ref, err := ParseLayout(in)
		if err != nil || [2]string{dir, ref} != want {
			t.Errorf("ParseLayout(%q) = %q, %q, %v; want %v", in, dir, ref, err, want)
		}
	}
	for _, bad := range []string{"", "layout:bad tag", "layout@sha256:nothex", ":v1", "@sha256:" + hex64, "a:"} {
		if _, _, err := ParseLayout(bad); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("ParseLayout(%q) accepted", bad)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "127.0.0.1:1": true, "127.1.2.3": true,
		"[::1]:5000": true, "ghcr.io": false, "10.0.0.1:5000": false, "localhost.evil.com": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v", host, got)
		}
	}
}

func FuzzParseRegistry(f *testing.F) {
	for _, s := range []string{"alpine", "ghcr.io/a/b:v1", "localhost:5000/x@sha256:" + hex64, "Bad Ref!!", "a/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRegistry(s)
		if err != nil {
			return
		}
		if r.Registry == "" || r.Repository == "" {
			t.Fatalf("%q parsed to %+v", s, r)
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("%q parsed to an invalid reference: %v", s, err)
		}
	})
}

func FuzzParseLayout(f *testing.F) {
	for _, s := range []string{"layout", "a:v1", "a@sha256:" + hex64, "a:b:c", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dir, ref, err := ParseLayout(s)
		if err != nil {
			return
		}
		if dir == "" {
			t.Fatalf("%q gave an empty directory", s)
		}
		if ref != "" && !validTag(ref) && ref[:7] != "sha256:" {
			t.Fatalf("%q gave reference %q", s, ref)
		}
	})
}
