package testartifact

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
)

// ZstdFrame returns a zstd frame that holds data in raw blocks and whose
// header declares a window of window bytes (rounded down to what the
// header can say), however little data needs: a decoder that trusts the
// header allocates the window before it reads a block. With
// singleSegment, the header declares a content size of window bytes
// instead, which a decoder takes as the window too.
func ZstdFrame(data []byte, window uint64, singleSegment bool) []byte {
	out := binary.LittleEndian.AppendUint32(nil, 0xFD2FB528)
	if singleSegment {
		out = append(out, 0b11<<6|1<<5) // 8-byte content size, single segment
		out = binary.LittleEndian.AppendUint64(out, window)
	} else {
		// Window_Descriptor: exponent e and mantissa m give
		// 2^(10+e) * (1 + m/8).
		e := 0
		for uint64(1)<<(10+e+1) <= window && e < 31 {
			e++
		}
		base := uint64(1) << (10 + e)
		m := min((window-base)/(base/8), 7)
		out = append(out, 0, byte(e<<3)|byte(m))
	}
	const maxBlock = 128 << 10
	for i := 0; ; i += maxBlock {
		block := data[i:min(i+maxBlock, len(data))]
		last := i+maxBlock >= len(data)
		h := uint32(len(block)) << 3 // raw block
		if last {
			h |= 1
		}
		out = append(out, byte(h), byte(h>>8), byte(h>>16))
		out = append(out, block...)
		if last {
			return out
		}
	}
}

// ReframeZstd rewrites a zstd:chunked blob (such as EStargzWith makes)
// with every frame of its data made again by ZstdFrame: the same bytes,
// behind headers that declare a window of window bytes. The TOC's offsets
// follow; it returns the blob and the digest of its new TOC JSON.
func ReframeZstd(blob []byte, window uint64, singleSegment bool) ([]byte, digest.Digest, error) {
	dec := new(zstdchunked.Decompressor)
	payloadEnd, tocOff, tocSize, err := dec.ParseFooter(blob[len(blob)-int(dec.FooterSize()):])
	if err != nil {
		return nil, "", err
	}
	rc, err := dec.DecompressTOC(bytes.NewReader(blob[tocOff : tocOff+tocSize]))
	if err != nil {
		return nil, "", err
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, "", err
	}
	toc := new(estargz.JTOC)
	if err := json.Unmarshal(raw, toc); err != nil {
		return nil, "", err
	}
	// Every member is a frame; they start at 0 and where chunks start.
	starts := []int64{0, payloadEnd}
	for _, e := range toc.Entries {
		if e.ChunkDigest != "" {
			starts = append(starts, e.Offset)
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	zd, err := zstd.NewReader(nil)
	if err != nil {
		return nil, "", err
	}
	defer zd.Close()
	var out bytes.Buffer
	moved := map[int64]int64{}
	for i := 0; i+1 < len(starts); i++ {
		data, err := zd.DecodeAll(blob[starts[i]:starts[i+1]], nil)
		if err != nil {
			return nil, "", fmt.Errorf("frame at %d: %w", starts[i], err)
		}
		moved[starts[i]] = int64(out.Len())
		out.Write(ZstdFrame(data, window, singleSegment))
	}
	for _, e := range toc.Entries {
		if e.ChunkDigest != "" {
			e.Offset = moved[e.Offset]
		}
	}
	c := &zstdchunked.Compressor{CompressionLevel: zstd.SpeedDefault}
	d, err := c.WriteTOCAndFooter(&out, int64(out.Len()), toc, nil)
	if err != nil {
		return nil, "", err
	}
	return out.Bytes(), d, nil
}

// ZstdWithTOC returns a zstd:chunked blob made of payload (zstd frames, or
// nothing) and toc, written as zstd:chunked writes a TOC (indented JSON in
// a skippable frame, then the footer, which gives the JSON's size), and
// the digest of the TOC JSON.
func ZstdWithTOC(payload []byte, toc *estargz.JTOC) ([]byte, digest.Digest, error) {
	out := bytes.NewBuffer(bytes.Clone(payload))
	c := &zstdchunked.Compressor{CompressionLevel: zstd.SpeedDefault}
	d, err := c.WriteTOCAndFooter(out, int64(len(payload)), toc, nil)
	if err != nil {
		return nil, "", err
	}
	return out.Bytes(), d, nil
}
