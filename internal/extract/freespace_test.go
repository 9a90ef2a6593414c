package extract

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckFreeSpace(t *testing.T) {
	dir := t.TempDir()
	free, ok := availableBytes(dir)
	if !ok {
		t.Skip("this system does not say how much space is free")
	}
	if err := CheckFreeSpace(dir, 1); err != nil {
		t.Fatalf("one byte: %v", err)
	}
	// A target that does not exist yet is checked on its nearest parent.
	missing := filepath.Join(dir, "not", "yet")
	for _, target := range []string{dir, missing} {
		err := CheckFreeSpace(target, math.MaxInt64)
		if !errors.Is(err, ErrNoSpace) {
			t.Fatalf("%s: %d bytes with %d free: %v, want ErrNoSpace", target, int64(math.MaxInt64), free, err)
		}
		if !strings.Contains(err.Error(), target) || !strings.Contains(err.Error(), "8.0 EiB") {
			t.Errorf("the error names neither the target nor the size: %v", err)
		}
	}
	// A GiB more than is free (others may free space meanwhile).
	if free < math.MaxInt64>>1 {
		if err := CheckFreeSpace(dir, int64(free)+1<<30); !errors.Is(err, ErrNoSpace) {
			t.Errorf("a GiB more than the %d bytes free: %v", free, err)
		}
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 29: "1.5 GiB", math.MaxUint64: "16.0 EiB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
