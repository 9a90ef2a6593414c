// Package inflate decompresses a deflate stream (RFC 1951) that is whole in
// memory into a buffer of known size, and a gzip member (RFC 1952) around
// one, checking its CRC-32 when the member ends inside the buffer.
//
// It exists for speed. A pull spends most of its CPU inflating chunks, and
// compress/flate (klauspost's too) decodes through an io.Reader: it reads
// its input a byte at a time and writes into a 32 KiB window that is then
// copied out. A chunk is already whole in memory and its size is known, so
// this decoder reads 8 bytes at a time and writes matches straight into the
// caller's buffer. Its output is compared with compress/flate's by a fuzz
// test; every slice access is bounds-checked by Go, and bad input is an
// error, never a panic.
package inflate

import (
	"encoding/binary"
	"errors"
	"sync"
)

// ErrCorrupt is input that is not a valid deflate stream or gzip member,
// or that ends before the buffer is full.
var ErrCorrupt = errors.New("inflate: corrupt or truncated input")

// decoder holds the bit reader between blocks; the hot loop copies it into
// locals.
type decoder struct {
	src   []byte
	pos   int    // next byte of src to load
	bits  uint64 // loaded bits, the next one lowest
	nbits uint   // how many
	// over counts zero bits added past the end of src: consuming any of
	// them means the input was truncated.
	over uint

	lit, dist, lens []uint32 // dynamic tables, reused
	pairs           []uint32 // lit as a pair table
}

// decoders recycles decoders, for their tables: a pull inflates a chunk
// per small file, each with tables of its own.
var decoders sync.Pool

// refill loads at least 48 bits when the input has them, else pads with
// zeros (counted in over).
func (d *decoder) refill() {
	for d.nbits <= 56 && d.pos < len(d.src) {
		d.bits |= uint64(d.src[d.pos]) << d.nbits
		d.pos++
		d.nbits += 8
	}
	if d.nbits < 48 {
		pad := 56 - d.nbits
		d.over += pad
		d.nbits += pad
	}
}

func (d *decoder) overrun() bool { return d.nbits < d.over }

func (d *decoder) take(n uint) uint32 {
	if d.nbits < n {
		d.refill()
	}
	v := uint32(d.bits & (1<<n - 1))
	d.bits >>= n
	d.nbits -= n
	return v
}

// symbol decodes one symbol with table t of first-level size 1<<pbits.
func (d *decoder) symbol(t []uint32, pbits uint) uint32 {
	if d.nbits < 32 {
		d.refill()
	}
	e := t[d.bits&(1<<pbits-1)]
	if e&linkFlag != 0 {
		d.bits >>= pbits
		d.nbits -= pbits
		e = t[int(e>>16)+int(d.bits&(1<<((e>>8)&countMask)-1))]
	}
	n := uint(e & countMask)
	d.bits >>= n
	d.nbits -= n
	return e
}

// Inflate decompresses the deflate stream at the start of src into dst
// until dst is full or the stream ends. It returns how many bytes it
// wrote and, if the stream ended, the offset in src just past its last
// byte (else -1). A match may not reach before the start of dst: a stream
// that needs a preset dictionary is corrupt here. Bytes of dst past the n
// it returns may be overwritten too.
func Inflate(dst, src []byte) (n, end int, err error) {
	d, _ := decoders.Get().(*decoder)
	if d == nil {
		d = new(decoder)
	}
	defer func() { d.src = nil; decoders.Put(d) }()
	d.src, d.pos, d.bits, d.nbits, d.over = src, 0, 0, 0, 0
	out := 0
	for {
		final := d.take(1)
		var done bool
		switch d.take(2) {
		case 0:
			out, done, err = d.stored(dst, out)
		case 1:
			out, done, err = d.huffman(dst, out, fixedLit, fixedPairs, fixedDist)
		case 2:
			if err = d.dynamic(); err == nil {
				pairs := d.lit
				if len(dst)-out >= pairsWorthIt {
					d.pairs = pairTable(d.pairs, d.lit)
					pairs = d.pairs
				}
				out, done, err = d.huffman(dst, out, d.lit, pairs, d.dist)
			}
		default:
			err = ErrCorrupt
		}
		if err == nil && d.overrun() {
			err = ErrCorrupt
		}
		if err != nil || !done {
			return out, -1, err
		}
		if final == 1 {
			// Whole bytes left in the bit buffer were loaded ahead.
			return out, d.pos - int((d.nbits-d.over)/8), nil
		}
	}
}

// stored copies a stored block; done reports that it ended (rather than
// dst filling up).
func (d *decoder) stored(dst []byte, out int) (_ int, done bool, _ error) {
	if d.overrun() {
		return out, false, ErrCorrupt
	}
	// Skip to a byte boundary and give back the whole bytes loaded ahead.
	d.pos -= int((d.nbits - d.over) / 8)
	d.bits, d.nbits, d.over = 0, 0, 0
	if d.pos+4 > len(d.src) {
		return out, false, ErrCorrupt
	}
	n := binary.LittleEndian.Uint16(d.src[d.pos:])
	if n != ^binary.LittleEndian.Uint16(d.src[d.pos+2:]) {
		return out, false, ErrCorrupt
	}
	d.pos += 4
	m := min(int(n), len(dst)-out)
	if avail := len(d.src) - d.pos; m > avail {
		// Cut short: what is there is still the stream's, as far as it
		// goes, and may be all the caller wants.
		copy(dst[out:], d.src[d.pos:])
		d.pos = len(d.src)
		return out + avail, false, ErrCorrupt
	}
	copy(dst[out:], d.src[d.pos:d.pos+m])
	d.pos += m
	return out + m, m == int(n), nil
}

// dynamic reads the code lengths of a dynamic block and builds its tables.
func (d *decoder) dynamic() error {
	nlit := int(d.take(5)) + 257
	ndist := int(d.take(5)) + 1
	nclen := int(d.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return ErrCorrupt
	}
	var cl [19]uint8
	for _, sym := range lenOrder[:nclen] {
		cl[sym] = uint8(d.take(3))
	}
	var ok bool
	if d.lens, ok = build(d.lens, cl[:], lenBits, lenEntries); !ok {
		return ErrCorrupt
	}
	var lengths [286 + 30]uint8
	for i := 0; i < nlit+ndist; {
		e := d.symbol(d.lens, lenBits)
		if e&kindMask == kindInvalid || d.overrun() {
			return ErrCorrupt
		}
		sym := e >> 16
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return ErrCorrupt
			}
			rep, val = 3+int(d.take(2)), lengths[i-1]
		case 17:
			rep = 3 + int(d.take(3))
		default:
			rep = 11 + int(d.take(7))
		}
		if i+rep > nlit+ndist {
			return ErrCorrupt
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if d.lit, ok = build(d.lit, lengths[:nlit], litBits, litEntries); !ok {
		return ErrCorrupt
	}
	if d.dist, ok = build(d.dist, lengths[nlit:nlit+ndist], distBits, distEntries); !ok {
		return ErrCorrupt
	}
	return nil
}
