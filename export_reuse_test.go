package blobber

import (
	"context"
	"io/fs"

	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/push"
)

// ReusedLayers reports how many layers c's split pushes reused from an
// earlier build of their group.
func ReusedLayers(c *Client) int64 { return c.stats.push.ReusedLayers.Load() }

// LayerFingerprints are the cache keys of the layers a split push of fsys
// with opts would build, one per group, in order.
func LayerFingerprints(fsys fs.FS, opts ...PushOption) ([]string, error) {
	po := pushOptions{split: true}
	for _, opt := range opts {
		if err := opt(&po); err != nil {
			return nil, err
		}
	}
	groups, err := layer.SplitGroups(context.Background(), fsys, layer.DefaultSplit)
	if err != nil || len(groups) < 2 {
		return nil, err
	}
	var fps []string
	for _, g := range groups {
		fps = append(fps, push.LayerFingerprint(layer.Subtree(fsys, g), po.build))
	}
	return fps, nil
}
