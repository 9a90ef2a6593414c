package blobber

import (
	"context"
	"fmt"
	"slices"

	"github.com/blobber-dev/blobber/internal/target"
)

// Tags lists the tags of a repository ("host/repo", or an OCI layout
// directory with WithOCILayout), sorted.
func (c *Client) Tags(ctx context.Context, repo string) ([]string, error) {
	if c.opts.offline && !c.opts.target.OCILayout {
		return nil, fmt.Errorf("listing tags of %s: %w", repo, ErrOffline)
	}
	t, err := target.Open(ctx, repo, c.opts.target, false)
	if err != nil {
		return nil, classify(err)
	}
	tags, err := t.Tags(ctx)
	if err != nil {
		return nil, wrapf(err, "listing tags of %s", t.Name)
	}
	slices.Sort(tags)
	return tags, nil
}
