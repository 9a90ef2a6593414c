package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
)

// layerStash makes every timed push a first push of its layer, as the
// first of its runs is: a registry that already holds a layer pushed to a
// new repository takes the upload in, finds the blob at its digest and
// deletes the copy just uploaded, and Distribution does that inside the
// final PUT. On this VM's ext4 (online discard, no journal) unlinking a
// large copy takes long enough to show (perf trace of the registry;
// BENCHMARKS.md, what is measured), which the second
// and third runs of every tool's push, and every run of blobber's push
// with GOMAXPROCS=1, used to pay and the first did not. So before a timed
// push, the layers the previous push of the same content made are moved
// out of the registry's storage, and removed once the push has put them
// back, both untimed. Only layers move: a config blob may be shared.
type layerStash struct {
	storage  string // the registry's rootdirectory
	registry string // the registry's host:port, bypassing the counting proxy
	dir      string // where layers wait while a push runs
	seq      int
	layers   map[string][]digest.Digest // content key → layers of its last push
}

func newLayerStash(storage, registryHost, work string) *layerStash {
	return &layerStash{storage: storage, registry: registryHost, dir: filepath.Join(work, "stashed-layers"), layers: map[string][]digest.Digest{}}
}

// around runs push, a timed push of the content named key to ref, with
// the layers key's previous push made moved aside, then learns ref's
// layers for the next one.
func (s *layerStash) around(ctx context.Context, key, ref string, push func() (sample, error)) (sample, error) {
	moved := s.hide(s.layers[key])
	smp, err := push()
	s.settle(moved)
	if err == nil {
		if layers, lerr := s.manifestLayers(ctx, ref); lerr == nil {
			s.layers[key] = layers
		} else {
			logf("could not read the layers of %s: %v", ref, lerr)
		}
	}
	return smp, err
}

// stashed is one layer moved out of the registry's storage.
type stashed struct{ from, to string }

func (s *layerStash) blobDir(d digest.Digest) string {
	hex := d.Encoded()
	return filepath.Join(s.storage, "docker", "registry", "v2", "blobs", d.Algorithm().String(), hex[:2], hex)
}

func (s *layerStash) hide(layers []digest.Digest) []stashed {
	if len(layers) == 0 {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		logf("stash: %v", err)
		return nil
	}
	var moved []stashed
	for _, d := range layers {
		if d.Validate() != nil {
			continue
		}
		s.seq++
		m := stashed{from: s.blobDir(d), to: filepath.Join(s.dir, strconv.Itoa(s.seq))}
		if err := os.Rename(m.from, m.to); err != nil {
			if !os.IsNotExist(err) {
				logf("stash: %v", err)
			}
			continue
		}
		moved = append(moved, m)
	}
	return moved
}

// settle removes the stashed layers that the push put back, and puts back
// those it did not (a failed push), so that every artifact stays whole.
func (s *layerStash) settle(moved []stashed) {
	for _, m := range moved {
		if _, err := os.Stat(m.from); err == nil {
			_ = os.RemoveAll(m.to)
			continue
		}
		if err := os.Rename(m.to, m.from); err != nil {
			logf("stash: putting back %s: %v", m.from, err)
		}
	}
}

// manifestLayers reads the layer digests of ref ("host/repo:tag") from the
// registry itself, so that the proxy counts nothing.
func (s *layerStash) manifestLayers(ctx context.Context, ref string) ([]digest.Digest, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	repo, err := remote.NewRepository(s.registry + "/" + r.Repository)
	if err != nil {
		return nil, err
	}
	repo.PlainHTTP = true
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, raw, err := oras.FetchBytes(ctx, repo, r.Reference, oras.DefaultFetchBytesOptions)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest // a Docker schema 2 manifest has the same layers field
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	layers := make([]digest.Digest, 0, len(m.Layers))
	for _, l := range m.Layers {
		layers = append(layers, l.Digest)
	}
	return layers, nil
}
