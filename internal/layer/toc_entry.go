package layer

import (
	"strconv"

	"github.com/containerd/stargz-snapshotter/estargz"
)

// appendPlainEntry appends the entry as json.Encoder, with the TOC's indent
// ("\t\t", "\t"), renders it, without the newline Encode adds; ok is false,
// and nothing is to be used, when the entry holds what it does not render
// as encoding/json would: a string with a byte to escape (a quote, a
// backslash, <, > or &, which encoding/json escapes for HTML, a control
// character, or anything outside ASCII, which it checks as UTF-8), or
// extended attributes. encoding/json's reflection, per entry of a tree of
// small files, costs more than the rest of its TOC.
func appendPlainEntry(b []byte, e *estargz.TOCEntry) ([]byte, bool) {
	if e.Xattrs != nil {
		return b, false
	}
	ok := true
	field := func(name string) {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(b, "\n\t\t\t\""...)
		b = append(b, name...)
		b = append(b, "\": "...)
	}
	str := func(name, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				ok = false
				return
			}
		}
		field(name)
		b = append(b, '"')
		b = append(b, v...)
		b = append(b, '"')
	}
	num := func(name string, v int64) {
		if v != 0 {
			field(name)
			b = strconv.AppendInt(b, v, 10)
		}
	}
	b = append(b, '{')
	str("name", e.Name, false)
	str("type", e.Type, false)
	num("size", e.Size)
	str("modtime", e.ModTime3339, true)
	str("linkName", e.LinkName, true)
	num("mode", e.Mode)
	num("uid", int64(e.UID))
	num("gid", int64(e.GID))
	str("userName", e.Uname, true)
	str("groupName", e.Gname, true)
	num("offset", e.Offset)
	num("innerOffset", e.InnerOffset)
	num("devMajor", int64(e.DevMajor))
	num("devMinor", int64(e.DevMinor))
	str("digest", e.Digest, true)
	num("chunkOffset", e.ChunkOffset)
	num("chunkSize", e.ChunkSize)
	str("chunkDigest", e.ChunkDigest, true)
	b = append(b, "\n\t\t}"...)
	return b, ok
}
