package blobber

import "github.com/blobber-dev/blobber/internal/layer"

// SetSplitLimits makes WithLayers(LayersAuto) split at these sizes, so
// that tests split small trees, until restore is called.
func SetSplitLimits(ownLayer, minGroup, targetGroup, maxGroup int64) (restore func()) {
	saved := layer.DefaultSplit
	layer.DefaultSplit = layer.SplitLimits{OwnLayer: ownLayer, MinGroup: minGroup, TargetGroup: targetGroup, MaxGroup: maxGroup}
	return func() { layer.DefaultSplit = saved }
}
