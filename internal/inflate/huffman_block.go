package inflate

import "encoding/binary"

// pairsWorthIt is how much output a block must have room for before its
// pair table is built: for a small file's block, building it costs more than
// it saves.
const pairsWorthIt = 32 << 10

// huffman decodes a block with the tables lit and dist into dst from out;
// done reports that the block ended (rather than dst filling up). This
// loop is where a pull spends its time.
func (d *decoder) huffman(dst []byte, out int, lit, pairs, dist []uint32) (_ int, done bool, err error) {
	// The bit reader lives in locals, stored back before each return
	// without an error: stored by a deferred function, they would live on
	// the stack, a store and a load on the path from each symbol to the
	// next, which the loop's speed shows.
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
