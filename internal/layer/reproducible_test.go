package layer

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"
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
// same tree must keep deduplicating against layers pushed then.
func TestBuildDigestsArePinned(t *testing.T) {
	cases := []struct {
		name                            string
		tree                            fstest.MapFS
		opts                            Options
		blob, toc, diffID               string
		size, uncompressedSize, entries int64
	}{
		{"sample-gzip", sampleTree(), Options{ChunkSize: 16 << 10},
			"95418740b87e39ef66fc9e99ec8227fefde59105db99ff2f709f2e13902e6f7f", "227c9628e6106b753390ec54fd005b69669cafbfeb10f7faac4b5c0c0a443714", "a8b7326318627946ababd931520d9585d4cf8d2cf84e172a8af4f88ebaf73e8e", 2024, 97280, 14},
		{"sample-zstd", sampleTree(), Options{Compression: Zstd, ChunkSize: 16 << 10},
			"b43ab9b3b4f6d9bbae92fe1b9d9600c7d51c7c03549c3e2b98409fd08587c833", "9570a183a17279dd400ca1e568abcde667ff51d33c945e643b55e4efff6d045a", "644d7516fd92a41ecb1fad0c3eb7e3ad2aa4864bde459b2017654ac7b7c061ed", 1675, 92160, 14},
		{"sample-gzip-default-chunks", sampleTree(), Options{},
			"835fb1570a61c7f2214cf903ba171693dd63519240c80d70d40309557230de69", "c1b084e03f0badd95a37c67f9c169a7a995f844befab89ed6b1ed5dfee8a31ea", "40b409b3af342b3d2b227f41422763393099c47337d243373e332c1fd4d2355c", 1698, 96768, 14},
		{"empty-gzip", fstest.MapFS{}, Options{},
			"74b3d738d6b78a4533621b2d5f6daf77e4faba8c67dddbcb75fab2fcb4e7dc32", "34389139a1c1b35477be831e2253885fa98a9fc3906b16880a391631786dd194", "363a4f7eed910f0e08673e75152b09ed81e8e78004285aebdd6fb4f56d93ef6c", 180, 2048, 0},
		{"empty-zstd", fstest.MapFS{}, Options{Compression: Zstd},
			"d1a60f7cc700fa25b178418383a27e9dd2bb9cdcbfc973fcd5319ecb4205a0aa", "34389139a1c1b35477be831e2253885fa98a9fc3906b16880a391631786dd194", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 104, 0, 0},
		{"wide-gzip", wideTree(3000), Options{ChunkSize: 16 << 10},
			"7a3c4ee15669180f163c70e0d387ba3378614380d38d074f60fd078f44a4791f", "90d36a01e3730edb4dd649753cb10ef8a5045108974c3bfd05c8cebbd634de18", "522b52aa0ae492a4dba800415f1b9162962bd66f58a807687982d5c6a5b222a0", 696165, 11173376, 3068},
		{"wide-zstd", wideTree(3000), Options{Compression: Zstd, ChunkSize: 16 << 10},
			"5d8ed7227a497e1e57e1cf27195a11f5a9bb17a8f2e76c7b3317cd70b128ee4b", "ba98e2eb470f1a4d217292ac202c25f81f67ab2e17bb6c37cf2570f542859ebf", "34727b232bf610177dccec15884ff1e90aa850e8bed9c9c3e31947cdaabd11f3", 620978, 10112512, 3068},
		{"wide-gzip-modtimes", wideTree(3000), Options{ChunkSize: 7 << 10, KeepModTimes: true},
			"712c75282b7101a4b0ad2243d771f03e5ae169990530e06a753568e02497592b", "d7650bf83144950d5a1ec41268b54db045f88ab12ca4cb8a6660b756041a428b", "e57443e574dae25bd7538cea97fdb649a7e7e164b1c8cadc36001e02fd328ba5", 758397, 11239936, 3068},
		{"runs-gzip", runsTree(), Options{},
			"e08f5fe56796153755ce549ff8773f8e221822105b6102862ad41c6281d5271d", "cf830fcccba0e9573ab552c82dc8aac00feba5ce3f5be2063395ea8f2217b2a5", "f6696da4e241f00222c11d6e26417c96be46863e2f637bee840c638c3701063d", 163784, 10719744, 12008},
		{"runs-gzip-small-chunks", runsTree(), Options{ChunkSize: 16 << 10},
			"ed2b0b101c3dd1faa306ce8dd927e2b0a45b2429a044dd2044c41481b2d336c4", "337948936870e4afe25110e8f0f42e7c2fee90a68d4241388f1d45df366b2ac1", "4205d0bfd2959cd24d722e6d54c4fb3ee4a7883487700e9b34b24dd8e4671b9f", 164198, 10720256, 12008},
		// Not the digests of old: since blobber-layer-2 (layerFormat, in the
		// root package), a zstd member made long by a run of entries without
		// content is cut into members of about a megabyte, which changes the
		// blob and the TOC's offsets but not the tar (the diffID). Before,
		// the blob was 315bf909…, the TOC df27e4a5…, the size 73423.
		{"runs-zstd", runsTree(), Options{Compression: Zstd, ChunkSize: 16 << 10},
			"57bfb2148e6640600b176e184341bf5483cbe0227db92aaaf60f7b1e17e6e654", "b6e7fcdde665080f3af5f068ca5913201b95209263b3252e9b14441f2203a81b", "0071713eae8aeee916318f5edbeb9c51e28344dd3c84ec8061073e6949bed97e", 75560, 8349696, 12008},
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
