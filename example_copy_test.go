package blobber_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/blobber-dev/blobber"
)

// Copy an artifact from one OCI layout to another under two tags; a second
// copy finds everything there and sends nothing. Between registries, name
// repositories ("ghcr.io/acme/site:v1") and drop WithOCILayout; add
// WithReferrers to bring its signatures along.
func ExampleClient_Copy() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blobber-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "build") + ":v1"
	dst := filepath.Join(dir, "release") + ":v1,stable"

	c, err := blobber.NewClient(blobber.WithOCILayout())
	if err != nil {
		log.Fatal(err)
	}
	pushed, err := c.Push(ctx, src, site)
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Copy(ctx, src, dst)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Descriptor.Digest == pushed.Digest, res.Tags, res.Transferred.Count)
	again, err := c.Copy(ctx, src, dst)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Transferred.Count, again.Skipped.Count)
	// Output:
	// true [v1 stable] 3
	// 0 1
}
