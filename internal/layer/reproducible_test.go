package layer

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/blobber-dev/blobber/internal/compression"
)

// wideTree has n entries of every kind the builder writes, with names that
// JSON escapes, files in several chunks (at 16 KiB) and a TOC larger than a
// flate window or a zstd block.
func wideTree(n int) fstest.MapFS {
	tree := fstest.MapFS{}
	for i := range n {
		dir := fmt.Sprintf("d%02d/sub%d", i%17, i%3)
		switch {
		case i%100 == 7:
			tree[fmt.Sprintf("%s/empty%04d", dir, i)] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
		case i%50 == 3:
			tree[fmt.Sprintf("%s/link%04d", dir, i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("../f%05d <&> \"é\"", i-1)), Mode: fs.ModeSymlink | 0o777}
		case i%40 == 1:
			tree[fmt.Sprintf("%s/big%04d <&>.bin", dir, i)] = &fstest.MapFile{Data: []byte(strings.Repeat(fmt.Sprintf("%d-", i), 40000/len(fmt.Sprintf("%d-", i))+i)), Mode: 0o644}
		default:
			tree[fmt.Sprintf("%s/f%05d-é\"q\\\t.txt", dir, i)] = &fstest.MapFile{Data: []byte(strings.Repeat("x", i%900)), Mode: fs.FileMode(0o600 + i%0o177), ModTime: time.Unix(int64(1700000000+i), 0)}
		}
	}
	return tree
}

// runsTree has long runs of entries without content (empty files,
// symlinks, directories, PAX headers) at its start, after a small file and
// after a file in several chunks: their tar headers fill members of several
// megabytes.
func runsTree() fstest.MapFS {
	tree := fstest.MapFS{}
	for i := range 2600 {
		tree[fmt.Sprintf("a-run/e%05d", i)] = &fstest.MapFile{Mode: 0o644}
	}
	tree["b-first.txt"] = &fstest.MapFile{Data: []byte("first\n"), Mode: 0o644}
	for i := range 4000 {
		tree[fmt.Sprintf("b/e%05d", i)] = &fstest.MapFile{Mode: 0o600}
	}
	for i := range 3000 {
		tree[fmt.Sprintf("c/l%05d", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("../b/e%05d", i)), Mode: fs.ModeSymlink | 0o777}
	}
	for i := range 300 {
		tree[fmt.Sprintf("d/dir%05d", i)] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
	}
	tree["e.bin"] = &fstest.MapFile{Data: []byte(strings.Repeat("0123456789", 5000)), Mode: 0o644}
	for i := range 2100 {
		tree[fmt.Sprintf("f/%s-%05d", strings.Repeat("long-name-", 12), i)] = &fstest.MapFile{Mode: 0o644}
	}
	tree["g.txt"] = &fstest.MapFile{Data: []byte("last\n"), Mode: 0o644}
	return tree
}

// The digests were computed by the builder before it wrote the TOC itself,
// when it handed the whole TOC to estargz's WriteTOCAndFooter: pushes of the
// same tree must keep deduplicating against layers pushed then. They
// changed once since, with blobber-layer-3 (layerFormat, in the root
// package), when the tar stream came to end before the TOC: every blob
// gained a member of two zero blocks, and its diffID those blocks, while
// the TOCs stayed as they were.
func TestBuildDigestsArePinned(t *testing.T) {
	cases := []struct {
		name                            string
		tree                            fstest.MapFS
		opts                            Options
		blob, toc, diffID               string
		size, uncompressedSize, entries int64
	}{
		{"sample-gzip", sampleTree(), Options{ChunkSize: 16 << 10},
			"720ab12c3e7f9303f1a040dc8bcd1da912faf82dc90d4f132363bfc1b72ff3e7", "227c9628e6106b753390ec54fd005b69669cafbfeb10f7faac4b5c0c0a443714", "c71507460dbb1383681713ec1ace35de5bc32eec780d50eaa6638fde7f883795", 2053, 98304, 14},
		{"sample-zstd", sampleTree(), Options{Compression: compression.Zstd, ChunkSize: 16 << 10},
			"fa3e75803920b1e52db64f0a1c75316aaa40e52612f5781383b7c6c002b86ca5", "9570a183a17279dd400ca1e568abcde667ff51d33c945e643b55e4efff6d045a", "e03ae12d1172639b74fbcc5263630e0640f90da445510b01ee662e9186d87412", 1691, 93184, 14},
		{"sample-gzip-default-chunks", sampleTree(), Options{},
			"26bcbacf22067ab41f26bd7533e27fc793a6afadb377b308cdc165e43294f302", "c1b084e03f0badd95a37c67f9c169a7a995f844befab89ed6b1ed5dfee8a31ea", "0f31d4f6e738be33897f583e4369b1ebb5d49ff9a30fd5dd28e1090dd8c91b18", 1727, 97792, 14},
		{"empty-gzip", fstest.MapFS{}, Options{},
			"3d70afd7a4742202d82d12faacea40de98030808da989a80c9ffe4253348d5ae", "34389139a1c1b35477be831e2253885fa98a9fc3906b16880a391631786dd194", "63780bb77499d981523cbe6ee5cb26d5bbefce35531f0a8f4837fa14fcae9cda", 209, 3072, 0},
		{"empty-zstd", fstest.MapFS{}, Options{Compression: compression.Zstd},
			"359ac05a71a1139c655982106303ccdd0677f8510635741c0defe48ed722737b", "34389139a1c1b35477be831e2253885fa98a9fc3906b16880a391631786dd194", "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef", 120, 1024, 0},
		{"wide-gzip", wideTree(3000), Options{ChunkSize: 16 << 10},
			"029a0f5103fc53c885ac603e61950346c8fe16987f253f012575641c8e7220b6", "90d36a01e3730edb4dd649753cb10ef8a5045108974c3bfd05c8cebbd634de18", "aa170b1b27d88822368429bee183617a1149aa9345e5c4606a4160bf8a5c3361", 696194, 11174400, 3068},
		{"wide-zstd", wideTree(3000), Options{Compression: compression.Zstd, ChunkSize: 16 << 10},
			"a29100b3a259484717f2250a6fd3c6d312552a587690ea52f41bd16c1e187f38", "ba98e2eb470f1a4d217292ac202c25f81f67ab2e17bb6c37cf2570f542859ebf", "1958e45bfeab31a45a35f625ba91229eb6b20e67f8db54d70868336015cf6efc", 620994, 10113536, 3068},
		{"wide-gzip-modtimes", wideTree(3000), Options{ChunkSize: 7 << 10, KeepModTimes: true},
			"0f2ee415451cbbf96ae13446a4418cd4c664d1e2f7b079856eeb89356acb5070", "d7650bf83144950d5a1ec41268b54db045f88ab12ca4cb8a6660b756041a428b", "70acd4532fa5173b36cbb938ac9906bf0556ccd093bdfac677163c3651ff24e9", 758426, 11240960, 3068},
		{"runs-gzip", runsTree(), Options{},
			"85bfd43f30764a8cf4b5ee1a3fe8ed681f2cac30a58c899d235f3a053c8a2381", "cf830fcccba0e9573ab552c82dc8aac00feba5ce3f5be2063395ea8f2217b2a5", "9f8b5037bd59a11045214fbbfe93e4a9c92976f410dcc33ae5a33adf74648655", 163813, 10720768, 12008},
		{"runs-gzip-small-chunks", runsTree(), Options{ChunkSize: 16 << 10},
			"f0c303e3f80e108b875ac2a7f456bd3768aa33cc2acb0f7f18ad3573e1aadec1", "337948936870e4afe25110e8f0f42e7c2fee90a68d4241388f1d45df366b2ac1", "38f886495c1452c86a1b15723de10d77db897fe0af42b74b463d6e079f0759ce", 164227, 10721280, 12008},
		// Not the digests of old: since blobber-layer-2 (layerFormat, in the
		// root package), a zstd member made long by a run of entries without
		// content is cut into members of about a megabyte, which changes the
		// blob and the TOC's offsets but not the tar (the diffID). Before,
		// the blob was 315bf909…, the TOC df27e4a5…, the size 73423.
		{"runs-zstd", runsTree(), Options{Compression: compression.Zstd, ChunkSize: 16 << 10},
			"42331e30067bfeaf76375afae7fa440a60a88d359c2c256ebe7468a18dd2707e", "b6e7fcdde665080f3af5f068ca5913201b95209263b3252e9b14441f2203a81b", "18091f316fef521ce81b67e8c997a5cdc1d2f4e53e270a8888c2bdba5ee0890f", 75576, 8350720, 12008},
	}
	for _, spill := range []bool{false, true} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/spill=%v", c.name, spill), func(t *testing.T) {
				if spill {
					skipUnderRace(t)
					withSpoolMemory(t, 1000)
				}
				c.opts.Workers = 3
				c.opts.TempDir = t.TempDir()
				_, res := build(t, c.tree, c.opts)
				got := fmt.Sprintf("%s %s %s %d %d %d", res.Digest.Encoded(), res.TOCDigest.Encoded(), res.DiffID.Encoded(), res.Size, res.UncompressedSize, res.Entries)
				want := fmt.Sprintf("%s %s %s %d %d %d", c.blob, c.toc, c.diffID, c.size, c.uncompressedSize, c.entries)
				if got != want {
					t.Errorf("blob, TOC, diffID, size, uncompressed size, entries:\n got %s\nwant %s", got, want)
				}
				if left, _ := os.ReadDir(c.opts.TempDir); len(left) > 0 {
					t.Errorf("temporary files left: %v", left)
				}
			})
		}
	}
}
