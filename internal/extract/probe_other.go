//go:build !windows

package extract

import "github.com/blobber-dev/blobber/internal/treepath"

// osNameRules: Unix systems take any name but "/" and NUL, which clean
// names never hold, and no path limit a pull could meet first.
func osNameRules(string) treepath.Rules { return treepath.Rules{} }
