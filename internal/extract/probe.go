package extract

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/blobber-dev/blobber/internal/treepath"
)

// ProbeRules finds the rules of the file system dir is on (or would be
// created on: its nearest existing ancestor) by creating one file in it and
// asking for that file under other names: in upper case, and in another
// Unicode normalization. The file is removed before it returns. Windows'
// name rules and path length come from the OS (see osNameRules).
func ProbeRules(dir string) (treepath.Rules, error) {
	r := osNameRules(dir)
	at, err := existingAncestor(dir)
	if err != nil {
		return r, err
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return r, err
	}
	// "é" in NFC; its NFD spelling is "e" and a combining acute accent.
	base := ".blobber-probe-" + hex.EncodeToString(b[:]) + "-x\u00e9"
	probe := filepath.Join(at, base)
	f, err := os.OpenFile(probe, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		// Nothing can be written there (no right, a read-only file
		// system, no space): the pull fails on its own terms, naming the
		// user's directory rather than the probe.
		return r, nil
	}
	defer os.Remove(probe)
	mine, err := f.Stat()
	f.Close()
	if err != nil {
		return r, err
	}
	same := func(name string) bool {
		fi, err := os.Stat(filepath.Join(at, name))
		return err == nil && os.SameFile(fi, mine)
	}
	r.FoldCase = same(strings.ToUpper(base))
	r.FoldNormalization = same(strings.TrimSuffix(base, "\u00e9") + "e\u0301")
	return r, nil
}
