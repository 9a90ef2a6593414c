package treepath

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Rules are what the file system a tree is written to demands beyond
// POSIX's: which names it can hold, and which names it takes for one file.
// They are found by probing the target directory (see extract.ProbeRules),
// not from the OS name: a Linux host can mount a case-insensitive volume,
// and a Mac can have a case-sensitive one.
type Rules struct {
	// WindowsNames refuses names Windows cannot create: reserved device
	// names, the characters <>:"|?* and control characters, and a trailing
	// dot or space.
	WindowsNames bool
	// FoldCase: names that differ only in case are one file.
	FoldCase bool
	// FoldNormalization: names that differ only in Unicode normalization
	// (NFC or NFD) are one file, as on macOS's APFS and HFS+.
	FoldNormalization bool
	// MaxPath, when positive, is the longest path the OS accepts, in UTF-16
	// code units, counting the target directory's absolute path, a
	// separator and the name (Windows' MAX_PATH less its NUL, unless long
	// paths are enabled).
	MaxPath int
}

// windowsReserved are the device names Windows reserves in every directory,
// with any extension; the superscript digits are reserved too.
var windowsReserved = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true}

func init() {
	for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³"} {
		windowsReserved["COM"+d] = true
		windowsReserved["LPT"+d] = true
	}
}

// WindowsNameProblem says why Windows cannot create a file named component
// (one path element), or "" when it can.
func WindowsNameProblem(component string) string {
	for _, r := range component {
		switch {
		case r < 0x20 || r == 0x7f:
			return "a control character"
		case strings.ContainsRune(`<>:"|?*\`, r):
			return fmt.Sprintf("the character %q", r)
		}
	}
	if strings.HasSuffix(component, ".") || strings.HasSuffix(component, " ") {
		return "a trailing dot or space"
	}
	base, _, _ := strings.Cut(component, ".")
	if windowsReserved[strings.ToUpper(strings.TrimRight(base, " "))] {
		return "a name Windows reserves for a device"
	}
	return ""
}

// NameProblem says why a file system under these rules cannot hold the
// slash-separated name under a target directory whose absolute path is
// targetLen UTF-16 code units long, or "" when it can.
func (r Rules) NameProblem(name string, targetLen int) string {
	if r.WindowsNames {
		for c := range strings.SplitSeq(name, "/") {
			if why := WindowsNameProblem(c); why != "" {
				return why
			}
		}
	}
	if r.MaxPath > 0 {
		if n := targetLen + 1 + len(utf16.Encode([]rune(name))); n > r.MaxPath {
			return fmt.Sprintf("a path of %d characters, more than the %d the system accepts (long paths are not enabled)", n, r.MaxPath)
		}
	}
	return ""
}

// Folds reports whether two different names can be one file under r.
func (r Rules) Folds() bool { return r.FoldCase || r.FoldNormalization }

// Key is the name as the file system compares it: two names with the same
// key are one file. Without folding it is the name itself.
func (r Rules) Key(name string) string {
	if r.FoldNormalization {
		name = norm.NFD.String(name)
	}
	if r.FoldCase {
		name = cases.Fold().String(name)
	}
	return name
}

// Collisions finds the names that would land on one file. Feed it every
// name of a tree with Add; each name that takes the file of an earlier one
// is recorded with that one ("A and a").
type Collisions struct {
	Found List // "first and second", for each name that takes an earlier one's file
	rules Rules
	seen  map[string]string // key → the first name with it
}

// NewCollisions starts a collision check under r.
func NewCollisions(r Rules) *Collisions {
	return &Collisions{rules: r, seen: map[string]string{}}
}

// Add records name, and counts it as a collision when an earlier name has
// its key.
func (c *Collisions) Add(name string) {
	if !c.rules.Folds() {
		return
	}
	k := c.rules.Key(name)
	if first, ok := c.seen[k]; ok {
		c.Found.Add(first + " and " + name)
		return
	}
	c.seen[k] = name
}
