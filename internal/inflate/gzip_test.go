package inflate

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

func gzipMember(t *testing.T, data []byte, hdr gzip.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Header = hdr
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGunzip(t *testing.T) {
	data := samples()["text"][:100<<10]
	headers := map[string]gzip.Header{
		"plain":        {},
		"name-comment": {Name: "file.txt", Comment: "a comment"},
		"extra":        {Extra: []byte("some extra field")},
	}
	for name, hdr := range headers {
		t.Run(name, func(t *testing.T) {
			src := gzipMember(t, data, hdr)
			// Room past the data: the member ends inside it and is checked.
			buf := make([]byte, len(data)+100)
			checked, err := Gunzip(buf, len(data), src)
			if err != nil || !checked || !bytes.Equal(buf[:len(data)], data) {
				t.Fatalf("checked=%v err=%v", checked, err)
			}
			// A chunk that is the start of its member: not checked, right.
			buf = make([]byte, 4096)
			checked, err = Gunzip(buf, 4096, src)
			if err != nil || checked || !bytes.Equal(buf, data[:4096]) {
				t.Fatalf("prefix: checked=%v err=%v", checked, err)
			}
			// The trailer cut off (the caller bounds what it fetches).
			buf = make([]byte, len(data)+100)
			if checked, err := Gunzip(buf, len(data), src[:len(src)-3]); err != nil || checked {
				t.Fatalf("no trailer: checked=%v err=%v", checked, err)
			}
			// Less data than wanted.
			if _, err := Gunzip(make([]byte, len(data)+100), len(data)+1, src); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("short member: %v", err)
			}
		})
	}
}

// A wrong CRC-32 or length in the trailer fails the chunk: the decoder's
// own output is what it checks.
func TestGunzipTrailerMismatch(t *testing.T) {
	data := samples()["text"][:10<<10]
	for _, at := range []int{8, 7, 4, 1} { // CRC-32's first and last byte, ISIZE's
		src := gzipMember(t, data, gzip.Header{})
		src[len(src)-at] ^= 0x01
		if _, err := Gunzip(make([]byte, len(data)+100), len(data), src); !errors.Is(err, ErrCorrupt) {
			t.Errorf("trailer byte -%d flipped: %v", at, err)
		}
	}
}

func TestGunzipBadHeader(t *testing.T) {
	src := gzipMember(t, []byte("hello"), gzip.Header{Name: "n"})
	for i, edit := range []func([]byte) []byte{
		func(b []byte) []byte { b[0] = 0; return b },     // magic
		func(b []byte) []byte { b[2] = 7; return b },     // method
		func(b []byte) []byte { b[3] |= 0x80; return b }, // reserved flag
		func(b []byte) []byte { return b[:9] },           // short header
		func(b []byte) []byte { return b[:11] },          // name never ends
	} {
		if _, err := Gunzip(make([]byte, 10), 5, edit(bytes.Clone(src))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("edit %d: %v", i, err)
		}
	}
}

// What klauspost's writer makes, as blobber's builder does, with a header
// CRC (FHCRC) too.
func TestGunzipKlauspost(t *testing.T) {
	data := samples()["mixed"]
	var buf bytes.Buffer
	w, _ := kgzip.NewWriterLevel(&buf, kgzip.DefaultCompression)
	w.Write(data)
	w.Close()
	src := buf.Bytes()
	out := make([]byte, len(data)+10)
	if checked, err := Gunzip(out, len(data), src); err != nil || !checked || !bytes.Equal(out[:len(data)], data) {
		t.Fatalf("checked=%v err=%v", checked, err)
	}
	hcrc := append([]byte{}, src[:10]...)
	hcrc[3] |= 1 << 1
	sum := crc32.ChecksumIEEE(hcrc)
	hcrc = append(append(hcrc, byte(sum), byte(sum>>8)), src[10:]...)
	if checked, err := Gunzip(out, len(data), hcrc); err != nil || !checked {
		t.Fatalf("with FHCRC: checked=%v err=%v", checked, err)
	}
	hcrc[10] ^= 1
	if _, err := Gunzip(out, len(data), hcrc); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong FHCRC: %v", err)
	}
}

// Whatever the member, Gunzip must not panic; what it returns, checked or
// not, must be what compress/gzip reads from the same member; and where it
// refuses a member, compress/gzip must refuse it too.
func FuzzGunzip(f *testing.F) {
	for _, data := range [][]byte{nil, []byte("hello, hello, hello"), samples()["text"][:3000]} {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Name = "n"
		w.Write(data)
		w.Close()
		f.Add(buf.Bytes(), uint16(len(data)), uint16(64))
	}
	f.Fuzz(func(t *testing.T, src []byte, size, slack uint16) { checkGunzip(t, Gunzip, src, size, slack) })
}

// checkGunzip is FuzzGunzip's target, for any implementation of Gunzip.
func checkGunzip(t testing.TB, gunzip func(buf []byte, size int, src []byte) (bool, error), src []byte, size, slack uint16) {
	o := gunzipOracles.Get().(*gunzipOracle)
	defer gunzipOracles.Put(o)
	buf := o.buf[:int(size)+int(slack)]
	checked, err := gunzip(buf, int(size), src)
	if err != nil {
		if why := o.refusal(src, int(size), len(buf)); why == "" {
			t.Fatalf("Gunzip refused (%v) a member of which compress/gzip reads the %d bytes wanted (and checks the trailer of or reads past %d)", err, size, len(buf))
		}
		return
	}
	// Zeros after the member, for compress/flate's read-ahead (see
	// FuzzInflate).
	zr, zerr := o.reader(append(append(o.pad[:0], src...), make([]byte, 16)...))
	if zerr != nil {
		t.Fatalf("Gunzip accepted a header compress/gzip refuses: %v", zerr)
	}
	ref := o.ref[:size]
	if _, rerr := io.ReadFull(zr, ref); rerr != nil {
		t.Fatalf("Gunzip decoded %d bytes where compress/gzip fails: %v", size, rerr)
	}
	if !bytes.Equal(buf[:size], ref) {
		t.Fatal("Gunzip and compress/gzip decode different bytes")
	}
	if checked {
		// compress/gzip checks the same trailer at the member's end.
		zr, _ := o.reader(src)
		if _, rerr := io.Copy(io.Discard, zr); rerr != nil {
			t.Fatalf("Gunzip checked a member that compress/gzip refuses: %v", rerr)
		}
	}
}

// gunzipOracle holds what checkGunzip reuses from one input to the next.
type gunzipOracle struct {
	buf, ref, pad []byte
	src           bytes.Reader
	zr            gzip.Reader
}

var gunzipOracles = sync.Pool{New: func() any {
	return &gunzipOracle{buf: make([]byte, 2<<16), ref: make([]byte, 2<<16)}
}}

// reader is compress/gzip reading the one member at the start of src.
func (o *gunzipOracle) reader(src []byte) (*gzip.Reader, error) {
	o.src.Reset(src)
	if err := o.zr.Reset(&o.src); err != nil {
		return nil, err
	}
	o.zr.Multistream(false)
	return &o.zr, nil
}

// refusal says why Gunzip may refuse src, wanting size bytes with room
// bytes to decode into: what compress/gzip refuses in it too, or a header
// RFC 1952 says to refuse. "" means Gunzip must accept src.
//
// compress/gzip reads the input as it is, with no zeros after it: it reads
// ahead, so where it reads bytes from a cut stream, the bits they need are
// all there and Gunzip must decode them too.
func (o *gunzipOracle) refusal(src []byte, size, room int) string {
	if len(src) >= 4 && src[3]&0xe0 != 0 {
		return "reserved flag bits set (RFC 1952 says to refuse them; compress/gzip ignores them)"
	}
	zr, err := o.reader(src)
	if err != nil {
		return "header: " + err.Error()
	}
	if _, err := io.ReadFull(zr, o.ref[:size]); err != nil {
		return fmt.Sprintf("the first %d bytes: %v", size, err)
	}
	// A member that ends within room has its trailer checked; past it, or
	// where its tail does not decode, it is not, and the bytes wanted are
	// returned all the same.
	n, err := io.Copy(io.Discard, io.LimitReader(zr, int64(room-size)+1))
	if n <= int64(room-size) && errors.Is(err, gzip.ErrChecksum) {
		return "trailer: " + err.Error()
	}
	return ""
}

// The oracle of FuzzGunzip holds on refusals too: a Gunzip that refuses a
// member compress/gzip decodes fails it, while refusing what compress/gzip
// refuses, or what RFC 1952 says to, does not.
func TestGunzipOracleCatchesWrongRefusal(t *testing.T) {
	data := samples()["text"][:3000]
	member := gzipMember(t, data, gzip.Header{Name: "n"})
	refuse := func([]byte, int, []byte) (bool, error) { return false, ErrCorrupt }
	badCRC := bytes.Clone(member)
	badCRC[len(badCRC)-8] ^= 1
	reserved := bytes.Clone(member)
	reserved[3] |= 0x20
	for _, tc := range []struct {
		name        string
		src         []byte
		size, slack uint16
		wantFail    bool
	}{
		{"valid member", member, uint16(len(data)), 64, true},
		{"its first bytes, cut short", member[:len(member)/2], 100, 0, true},
		{"valid member, trailer past the room", badCRC, 100, 0, true},
		{"trailer wrong", badCRC, uint16(len(data)), 64, false},
		{"cut before the bytes wanted", member[:40], uint16(len(data)), 0, false},
		{"reserved flags", reserved, uint16(len(data)), 64, false},
		{"not gzip", []byte("plain text, not a gzip member"), 0, 64, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if failed := fuzzFails(t, func(tb testing.TB) { checkGunzip(tb, refuse, tc.src, tc.size, tc.slack) }); failed != tc.wantFail {
				t.Errorf("a Gunzip that refuses everything: target failed = %v, want %v", failed, tc.wantFail)
			}
			// The real Gunzip passes.
			if fuzzFails(t, func(tb testing.TB) { checkGunzip(tb, Gunzip, tc.src, tc.size, tc.slack) }) {
				t.Error("the target fails Gunzip")
			}
		})
	}
}

// fuzzFails runs a fuzz target's body and tells whether it failed.
func fuzzFails(t *testing.T, body func(testing.TB)) bool {
	r := &failureRecorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errTargetFailed {
				panic(p)
			}
		}()
		body(r)
	}()
	return r.failed
}

var errTargetFailed = errors.New("target failed")

// failureRecorder records a failure instead of failing the test.
type failureRecorder struct {
	testing.TB
	failed bool
}

func (r *failureRecorder) Fatal(args ...any) { r.failed = true; panic(errTargetFailed) }
func (r *failureRecorder) Fatalf(format string, args ...any) {
	r.failed = true
	panic(errTargetFailed)
}

// A member cut anywhere yields an error or the true bytes, never bytes
// decoded from past the cut: Inflate pads a cut stream with zeros to read
// ahead, and must not write output from them.
func TestGunzipTruncated(t *testing.T) {
	data := samples()["mixed"][:64<<10]
	src := gzipMember(t, data, gzip.Header{})
	for _, size := range []int{100, 4096, len(data)} {
		for cut := 0; cut < len(src); cut++ {
			buf := make([]byte, size+64)
			if _, err := Gunzip(buf, size, src[:cut]); err == nil && !bytes.Equal(buf[:size], data[:size]) {
				t.Fatalf("cut at %d of %d: %d bytes decoded wrong, without an error", cut, len(src), size)
			}
		}
	}
}
