package inflate

import (
	"math/bits"
	"slices"
)

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
// three tables for a few KiB of output, so building them is a large part
// of its inflating.
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
