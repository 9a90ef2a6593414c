package inflate

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// Gunzip decompresses the gzip member at the start of src into buf, of
// which the first size bytes are wanted: fewer is ErrCorrupt. The rest of
// buf is room to decode the member to its end, when it ends soon after:
// then its CRC-32 and length are checked, and checked reports it. A member
// that goes on past buf, or whose tail past size does not decode, is not
// checked, and its first size bytes are returned all the same.
func Gunzip(buf []byte, size int, src []byte) (checked bool, err error) {
	body, ok := skipHeader(src)
	if !ok || size > len(buf) {
		return false, ErrCorrupt
	}
	n, end, err := Inflate(buf, src[body:])
	if n < size {
		return false, ErrCorrupt
	}
	if err != nil || end < 0 {
		return false, nil
	}
	trailer := src[body+end:]
	if len(trailer) < 8 {
		return false, nil // the caller cut src short of the trailer
	}
	if binary.LittleEndian.Uint32(trailer[4:]) != uint32(n) || binary.LittleEndian.Uint32(trailer) != crc32.ChecksumIEEE(buf[:n]) {
		return false, ErrCorrupt
	}
	return true, nil
}

// skipHeader returns the offset of the deflate stream in a gzip member.
func skipHeader(src []byte) (int, bool) {
	const (
		fhcrc    = 1 << 1
		fextra   = 1 << 2
		fname    = 1 << 3
		fcomment = 1 << 4
	)
	if len(src) < 10 || src[0] != 0x1f || src[1] != 0x8b || src[2] != 8 || src[3]&0xe0 != 0 {
		return 0, false
	}
	flags, pos := src[3], 10
	if flags&fextra != 0 {
		if pos+2 > len(src) {
			return 0, false
		}
		pos += 2 + int(binary.LittleEndian.Uint16(src[pos:]))
		if pos > len(src) {
			return 0, false
		}
	}
	// A name or comment of 512 bytes or more is refused, as by
	// compress/gzip and klauspost's reader.
	for _, f := range []byte{fname, fcomment} {
		if flags&f == 0 {
			continue
		}
		n := bytes.IndexByte(src[pos:min(pos+512, len(src))], 0)
		if n < 0 {
			return 0, false
		}
		pos += n + 1
	}
	if pos > len(src) {
		return 0, false
	}
	if flags&fhcrc != 0 {
		// The low 16 bits of the CRC-32 of the header so far.
		if pos+2 > len(src) || binary.LittleEndian.Uint16(src[pos:]) != uint16(crc32.ChecksumIEEE(src[:pos])) {
			return 0, false
		}
		pos += 2
	}
	return pos, true
}
