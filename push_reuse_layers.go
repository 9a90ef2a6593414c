package blobber

import (
	"context"
	"io/fs"

	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/push"
	"github.com/blobber-dev/blobber/internal/target"
)

// layerChecks are the checks of the cache's records of a split push's
// groups. They run in the background, one group after another, while the
// groups without a record build: a check hashes the group's files (one
// core), a build compresses them (every core), and a push after a change
// has both to do.
type layerChecks struct {
	fps      []string // each group's fingerprint ("" without a cache)
	recorded []bool   // whether the cache has a record of the group
	order    []int    // the groups without a record first, then the others
	verdicts []chan layerVerdict
	stop     func() // ends the checks and waits for them
}

type layerVerdict struct {
	layer push.ReusedLayer
	ok    bool
}

// checkRecordedLayers starts checking the records of groups, whose
// fingerprints are fps ("" for none: only a cache can remember what an
// earlier push built).
func (c *Client) checkRecordedLayers(ctx context.Context, policy *push.Policy, t *target.Target, mnt *mounter, src fs.FS, groups []layer.Group, fps []string, build layer.Options) *layerChecks {
	n := len(groups)
	lc := &layerChecks{fps: fps, recorded: make([]bool, n), verdicts: make([]chan layerVerdict, n)}
	var later []int
	for i := range groups {
		lc.recorded[i] = policy.LayerRecorded(lc.fps[i])
		if lc.recorded[i] {
			lc.verdicts[i] = make(chan layerVerdict, 1)
			later = append(later, i)
		} else {
			lc.order = append(lc.order, i)
		}
	}
	lc.order = append(lc.order, later...)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	lc.stop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		for _, i := range later {
			reused, ok := policy.ReuseLayer(ctx, t, mnt.Mounter, layer.Subtree(src, groups[i]), build, lc.fps[i])
			lc.verdicts[i] <- layerVerdict{reused, ok}
		}
	}()
	return lc
}

// reused waits for the check of group i, and returns the layer it may
// reuse; false for a group without a record, or whose record was refused.
func (lc *layerChecks) reused(i int) (push.ReusedLayer, bool) {
	if !lc.recorded[i] {
		return push.ReusedLayer{}, false
	}
	v := <-lc.verdicts[i]
	return v.layer, v.ok
}

// rememberLayers records, once the push succeeded, the layers it built
// from groups that did not change while they were read.
func rememberLayers(policy *push.Policy, built []builtLayer) {
	for _, b := range built {
		if !b.reused && b.fp != "" && b.fpAfter == b.fp {
			policy.RememberLayer(b.fp, b.desc, b.diffID)
		}
	}
}
