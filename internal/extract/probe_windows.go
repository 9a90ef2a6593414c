package extract

import (
	"golang.org/x/sys/windows/registry"

	"github.com/blobber-dev/blobber/internal/treepath"
)

// maxPath is MAX_PATH less its terminating NUL.
const maxPath = 259

// osNameRules are Windows' name rules, and its path limit unless long paths
// are enabled (the LongPathsEnabled policy): beyond it, most programs
// cannot open what a pull wrote.
func osNameRules(string) treepath.Rules {
	r := treepath.Rules{WindowsNames: true, MaxPath: maxPath}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Control\FileSystem`, registry.QUERY_VALUE)
	if err != nil {
		return r
	}
	defer k.Close()
	if v, _, err := k.GetIntegerValue("LongPathsEnabled"); err == nil && v == 1 {
		r.MaxPath = 0
	}
	return r
}
