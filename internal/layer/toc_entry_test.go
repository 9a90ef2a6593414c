package layer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
)

// encodeEntry is the TOC entry as encoding/json renders it in the TOC.
func encodeEntry(t *testing.T, e *estargz.TOCEntry) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("\t\t", "\t")
	if err := enc.Encode(e); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// appendPlainEntry renders what encoding/json renders, byte for byte, or
// leaves the entry to it.
func TestPlainEntryRendersAsEncodingJSON(t *testing.T) {
	// Every field of the entry set, found by reflection, so that a field
	// a later estargz adds is not left out unseen.
	full := &estargz.TOCEntry{}
	v := reflect.ValueOf(full).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() || f.Tag.Get("json") == "-" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.String:
			v.Field(i).SetString("x" + f.Name)
		case reflect.Int, reflect.Int64:
			v.Field(i).SetInt(int64(1000 + i))
		case reflect.Map: // Xattrs: left to encoding/json
		default:
			t.Fatalf("TOCEntry.%s is a %s, which appendPlainEntry does not know", f.Name, f.Type)
		}
	}
	for _, tc := range []struct {
		e     *estargz.TOCEntry
		plain bool
	}{
		{full, true},
		{&estargz.TOCEntry{Name: "a/b.txt", Type: "reg", Size: 4096, ModTime3339: "1970-01-01T00:00:00Z", Mode: 0o644, Digest: emptyDigest, ChunkDigest: emptyDigest, Offset: 123}, true},
		{&estargz.TOCEntry{Name: "dir/", Type: "dir", Mode: 0o755, ModTime3339: "1970-01-01T00:00:00Z"}, true},
		{&estargz.TOCEntry{Name: "l", Type: "symlink", LinkName: "../x y", ModTime3339: "2026-12-06T13:00:00Z"}, true},
		{&estargz.TOCEntry{Name: "big", Type: "chunk", ChunkOffset: 4 << 20, ChunkSize: 4 << 20, Offset: -1}, true},
		{&estargz.TOCEntry{Name: "", Type: ""}, true},
		{&estargz.TOCEntry{Name: "a<b>&c", Type: "reg"}, false},
		{&estargz.TOCEntry{Name: `q"uote\back`, Type: "reg"}, false},
		{&estargz.TOCEntry{Name: "tab\there\x01\x7f", Type: "reg"}, false},
		{&estargz.TOCEntry{Name: "café \u2028 \xff", Type: "reg"}, false},
		{&estargz.TOCEntry{Name: "x", Type: "reg", Xattrs: map[string][]byte{"user.a": []byte("b")}}, false},
		{&estargz.TOCEntry{Name: "x", Type: "reg", LinkName: "<"}, false},
	} {
		got, ok := appendPlainEntry([]byte("prefix"), tc.e)
		if ok != tc.plain {
			t.Errorf("%q: plain = %v, want %v", tc.e.Name, ok, tc.plain)
		}
		if ok {
			if want := "prefix" + encodeEntry(t, tc.e); string(got) != want {
				t.Errorf("%q: rendered\n%s\nwant\n%s", tc.e.Name, got, want)
			}
		}
	}
}

// FuzzPlainEntry: whatever the strings and numbers, an entry
// appendPlainEntry renders is what encoding/json renders, byte for byte.
func FuzzPlainEntry(f *testing.F) {
	f.Add("a/b.txt", "reg", "", emptyDigest, int64(4096), int64(0o644), int64(123), int64(0), 1000)
	f.Add("l", "symlink", "../x y", "", int64(0), int64(-1), int64(-5), int64(4<<20), -7)
	f.Add("a<b", "reg", "\u2028", "\xff", int64(1<<62), int64(0), int64(0), int64(0), 0)
	f.Fuzz(func(t *testing.T, name, typ, link, dgst string, size, mode, offset, chunkOffset int64, uid int) {
		e := &estargz.TOCEntry{
			Name: name, Type: typ, LinkName: link, Digest: dgst, ChunkDigest: dgst, ModTime3339: link,
			Size: size, Mode: mode, Offset: offset, InnerOffset: -offset, ChunkOffset: chunkOffset, ChunkSize: size / 3,
			UID: uid, GID: -uid, Uname: typ, Gname: name, DevMajor: uid / 7, DevMinor: uid % 7,
		}
		got, ok := appendPlainEntry(nil, e)
		if ok {
			if want := encodeEntry(t, e); string(got) != want {
				t.Fatalf("rendered\n%s\nwant\n%s", got, want)
			}
		}
	})
}
