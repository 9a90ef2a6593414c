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
	"math/bits"
	"slices"
	"sync"
)

// ErrCorrupt is input that is not a valid deflate stream or gzip member,
// or that ends before the buffer is full.
var ErrCorrupt = errors.New("inflate: corrupt or truncated input")

// Table entries: the number of bits to consume (bits 0-3), a link to a
// subtable (bit 4), the kind of symbol (bits 5-6), extra bits to read
// after it (bits 8-11), and a value (bits 16-31): a literal byte, a
// length or distance base, or a subtable's offset.
const (
	countMask   = 0xf
	linkFlag    = 1 << 4
	kindLiteral = 0 << 5
	kindLength  = 1 << 5
	kindEnd     = 2 << 5
	kindInvalid = 3 << 5
	kindMask    = 3 << 5
	// pairFlag marks an entry of a pair table (see pairTable) that holds
	// two literals, the second in bits 24-31.
	pairFlag = 1 << 7

	litBits  = 10 // bits of the literal/length table's first level
	distBits = 8
	lenBits  = 7 // code-length codes are at most 7 bits long: one level
)

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// The order in which code-length code lengths are sent.
	lenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func litEntry(sym int) uint32 {
	switch {
	case sym < 256:
		return uint32(sym)<<16 | kindLiteral
	case sym == 256:
		return kindEnd
	case sym <= 285:
		i := sym - 257
		return uint32(lengthBase[i])<<16 | uint32(lengthExtra[i])<<8 | kindLength
	}
	return kindInvalid // 286 and 287 have codes in the fixed code, not meaning
}

func distEntry(sym int) uint32 {
	if sym < 30 {
		return uint32(distBase[sym])<<16 | uint32(distExtra[sym])<<8
	}
	return kindInvalid
}

func lenEntry(sym int) uint32 { return uint32(sym) << 16 }

// The table entries of every symbol of the three alphabets, made once.
var litEntries, distEntries, lenEntries = entryTable(288, litEntry), entryTable(32, distEntry), entryTable(19, lenEntry)

func entryTable(n int, entry func(int) uint32) []uint32 {
	t := make([]uint32, n)
	for sym := range t {
		t[sym] = entry(sym)
	}
	return t
}

// build makes the decoding table of a canonical Huffman code given by its
// code lengths, reusing t's storage. Like compress/flate it accepts only a
// complete code, a single code of one bit (what zlib writes for a block
// with one distance), or no code at all (every lookup then fails).
//
// The entries of a complete code cover the whole table, so only the other
// two need it filled with kindInvalid first: a small file's chunk builds
// three tables for a few KiB of output, and building them was a third of
// its inflating.
func build(t []uint32, lengths []uint8, pbits uint, entries []uint32) ([]uint32, bool) {
	var count [16]int
	maxLen := 0
	for _, n := range lengths {
		count[n]++
		maxLen = max(maxLen, int(n))
	}
	count[0] = 0 // unused symbols
	var next [17]int
	left, code := 1, 0
	for n := 1; n <= maxLen; n++ {
		left = left<<1 - count[n]
		if left < 0 {
			return nil, false // over-subscribed
		}
		code = (code + count[n-1]) << 1
		next[n] = code
	}
	if left != 0 && maxLen != 0 && !(maxLen == 1 && count[1] == 1) {
		return nil, false // incomplete
	}
	size := 1 << pbits
	if cap(t) >= size {
		t = t[:size]
	} else {
		t = make([]uint32, size)
	}
	if left != 0 {
		for i := range t {
			t[i] = kindInvalid
		}
		if maxLen == 0 {
			return t, true
		}
	}
	codes := next
	// Codes longer than pbits go to subtables, one per first-level
	// prefix, as long as the longest code with that prefix needs.
	var subLen [1 << litBits]uint8
	if maxLen > int(pbits) {
		for _, n := range lengths {
			if n == 0 {
				continue
			}
			rev := reverse(codes[n], n)
			codes[n]++
			if uint(n) > pbits {
				p := rev & (size - 1)
				subLen[p] = max(subLen[p], n-uint8(pbits))
			}
		}
		for p := range size {
			if subLen[p] == 0 {
				continue
			}
			off := len(t)
			t = slices.Grow(t, 1<<subLen[p])[:off+1<<subLen[p]]
			t[p] = uint32(off)<<16 | uint32(subLen[p])<<8 | linkFlag | uint32(pbits)
		}
		codes = next
	}
	for sym, n := range lengths {
		if n == 0 {
			continue
		}
		rev := reverse(codes[n], n)
		codes[n]++
		e := entries[sym]
		if uint(n) <= pbits {
			for i := rev; i < size; i += 1 << n {
				t[i] = e | uint32(n)
			}
			continue
		}
		link := t[rev&(size-1)]
		off, sub, m := int(link>>16), 1<<((link>>8)&countMask), n-uint8(pbits)
		for i := rev >> pbits; i < sub; i += 1 << m {
			t[off+i] = e | uint32(m)
		}
	}
	return t, true
}

func reverse(code int, n uint8) int { return int(bits.Reverse16(uint16(code)) >> (16 - n)) }

var fixedLit, fixedDist, fixedPairs []uint32

// pairTable returns a copy of the literal/length table lit in which each
// first-level entry of a literal whose code leaves room in the index for
// the next code, when that is a literal too, decodes both: the fast loop
// then writes two bytes for one lookup. Text decodes mostly literals, and
// each lookup waits on the one before it.
func pairTable(pairs, lit []uint32) []uint32 {
	pairs = append(pairs[:0], lit...)
	const first = kindMask | linkFlag
	for i := range 1 << litBits {
		e := lit[i]
		n1 := e & countMask
		if e&first != kindLiteral || n1 >= litBits {
			continue
		}
		e2 := lit[i>>n1] // the next bits, as far as the index holds them
		n2 := e2 & countMask
		if e2&first != kindLiteral || n1+n2 > litBits {
			continue
		}
		pairs[i] = e&^countMask | (n1 + n2) | pairFlag | (e2>>16)<<24
	}
	return pairs
}

func init() {
	var lengths [288]uint8
	for i := range lengths {
		switch {
		case i < 144:
			lengths[i] = 8
		case i < 256:
			lengths[i] = 9
		case i < 280:
			lengths[i] = 7
		default:
			lengths[i] = 8
		}
	}
	fixedLit, _ = build(nil, lengths[:], litBits, litEntries)
	// 32 distance codes of 5 bits; 30 and 31 mean nothing.
	var dl [32]uint8
	for i := range dl {
		dl[i] = 5
	}
	fixedDist, _ = build(nil, dl[:], distBits, distEntries)
	fixedPairs = pairTable(nil, fixedLit)
	if len(fixedLit) == 0 || len(fixedDist) == 0 {
		panic("inflate: the fixed Huffman codes do not build")
	}
}

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

// huffman decodes a block with the tables lit and dist into dst from out;
// done reports that the block ended (rather than dst filling up). This
// loop is where a pull spends its time.
// pairsWorthIt is how much output a block must have room for before its
// pair table is built: for a small file's block, building it costs more than
// it saves.
const pairsWorthIt = 32 << 10

func (d *decoder) huffman(dst []byte, out int, lit, pairs, dist []uint32) (_ int, done bool, err error) {
	// The bit reader lives in locals, stored back before each return
	// without an error: stored by a deferred function, they would live on
	// the stack, a store and a load on the path from each symbol to the
	// next (12% slower).
	bitbuf, nbits, pos, src, over := d.bits, d.nbits, d.pos, d.src, d.over
	// The fast loop runs while 8 bytes of input are left to load and dst
	// has room for the longest match: then every bit read is input (over
	// stays 0) and no symbol can fill dst, so neither is checked per
	// symbol. The loop below handles the ends. The two decode alike and
	// are kept apart on purpose: a function shared by both would not be
	// inlined into either.
	// First levels as arrays: their lookups need no bounds checks.
	pairsFirst := (*[1 << litBits]uint32)(pairs)
	distFirst := (*[1 << distBits]uint32)(dist)
	for over == 0 && pos+8 <= len(src) && len(dst)-out >= 258+8 {
		if nbits < 48 {
			bitbuf |= binary.LittleEndian.Uint64(src[pos:]) << nbits
			pos += int(63-nbits) >> 3
			nbits |= 56
		}
		e := pairsFirst[bitbuf&(1<<litBits-1)]
		if e&linkFlag != 0 {
			bitbuf >>= litBits
			nbits -= litBits
			e = lit[int(e>>16)+int(bitbuf&(1<<((e>>8)&countMask)-1))]
		}
		n := uint(e & countMask)
		bitbuf >>= n
		nbits -= n
		switch e & kindMask {
		case kindLiteral:
			// Room for 258 bytes: the second byte may be written even
			// when the entry holds one literal (and then overwritten).
			binary.LittleEndian.PutUint16(dst[out:], uint16(e>>16))
			out += 1 + int(e>>7&1)
			continue
		case kindEnd:
			d.bits, d.nbits, d.pos = bitbuf, nbits, pos
			return out, true, nil
		case kindInvalid:
			return out, false, ErrCorrupt
		}
		extra := uint(e>>8) & countMask
		length := int(e>>16) + int(bitbuf&(1<<extra-1))
		bitbuf >>= extra
		nbits -= extra

		e = distFirst[bitbuf&(1<<distBits-1)]
		if e&linkFlag != 0 {
			bitbuf >>= distBits
			nbits -= distBits
			e = dist[int(e>>16)+int(bitbuf&(1<<((e>>8)&countMask)-1))]
		}
		n = uint(e & countMask)
		bitbuf >>= n
		nbits -= n
		if e&kindMask == kindInvalid {
			return out, false, ErrCorrupt
		}
		extra = uint(e>>8) & countMask
		distance := int(e>>16) + int(bitbuf&(1<<extra-1))
		bitbuf >>= extra
		nbits -= extra
		if distance > out {
			return out, false, ErrCorrupt
		}
		from, end := out-distance, out+length
		if distance >= 8 {
			// 8 bytes at a time, each load from bytes already written:
			// the last store may run 7 bytes past end, within the room.
			for ; out < end; out, from = out+8, from+8 {
				binary.LittleEndian.PutUint64(dst[out:], binary.LittleEndian.Uint64(dst[from:]))
			}
			out = end
		} else if distance >= length {
			out += copy(dst[out:end], dst[from:])
		} else {
			for out < end {
				out += copy(dst[out:end], dst[from:out])
			}
		}
	}
	for {
		// 48 bits cover the longest symbol: a 15-bit length code, 5 extra
		// bits, a 15-bit distance code and 13 extra bits.
		if nbits < 48 {
			if pos+8 <= len(src) {
				// Bits above nbits may hold the next byte's first bits,
				// which the next load puts back in the same place.
				bitbuf |= binary.LittleEndian.Uint64(src[pos:]) << nbits
				pos += int(63-nbits) >> 3
				nbits |= 56
			} else {
				d.bits, d.nbits, d.pos = bitbuf, nbits, pos
				d.refill()
				bitbuf, nbits, pos, over = d.bits, d.nbits, d.pos, d.over
			}
		}
		e := lit[bitbuf&(1<<litBits-1)]
		if e&linkFlag != 0 {
			bitbuf >>= litBits
			nbits -= litBits
			e = lit[int(e>>16)+int(bitbuf&(1<<((e>>8)&countMask)-1))]
		}
		n := uint(e & countMask)
		bitbuf >>= n
		nbits -= n
		switch e & kindMask {
		case kindLiteral:
			// A symbol read into the zeros past the input's end is
			// truncation; checked before it writes, so that whatever
			// was written came from the input.
			if nbits < over {
				return out, false, ErrCorrupt
			}
			if out == len(dst) {
				d.bits, d.nbits, d.pos = bitbuf, nbits, pos
				return out, false, nil
			}
			dst[out] = byte(e >> 16)
			out++
			continue
		case kindEnd:
			d.bits, d.nbits, d.pos = bitbuf, nbits, pos
			return out, true, nil
		case kindInvalid:
			return out, false, ErrCorrupt
		}
		extra := uint(e>>8) & countMask
		length := int(e>>16) + int(bitbuf&(1<<extra-1))
		bitbuf >>= extra
		nbits -= extra

		e = dist[bitbuf&(1<<distBits-1)]
		if e&linkFlag != 0 {
			bitbuf >>= distBits
			nbits -= distBits
			e = dist[int(e>>16)+int(bitbuf&(1<<((e>>8)&countMask)-1))]
		}
		n = uint(e & countMask)
		bitbuf >>= n
		nbits -= n
		if e&kindMask == kindInvalid {
			return out, false, ErrCorrupt
		}
		extra = uint(e>>8) & countMask
		distance := int(e>>16) + int(bitbuf&(1<<extra-1))
		bitbuf >>= extra
		nbits -= extra

		if distance > out || nbits < over {
			return out, false, ErrCorrupt
		}
		end := out + length
		full := end > len(dst)
		if full {
			end = len(dst)
		}
		from := out - distance
		if distance >= end-out {
			out += copy(dst[out:end], dst[from:])
		} else {
			// Overlapping: dst[from:out] repeats with period distance,
			// so copying it forward doubles the stretch each time.
			for out < end {
				out += copy(dst[out:end], dst[from:out])
			}
		}
		if full {
			d.bits, d.nbits, d.pos = bitbuf, nbits, pos
			return out, false, nil
		}
	}
}
