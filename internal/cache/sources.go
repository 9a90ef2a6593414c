package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// A source record lists repositories ("registry/repository") known to hold
// a blob, most recent first, so that a push to another repository of the
// same registry can ask the registry to mount the blob instead of
// uploading it. It is a hint: a wrong or stale one costs a request.
type sourceRecord struct {
	Digest       digest.Digest `json:"digest"`
	Repositories []string      `json:"repositories"`
}

const (
	// MaxSources is how many repositories are remembered per blob.
	MaxSources = 16

	maxRepositoryName = 512
	maxSourceSize     = 64 << 10
)

func sourcePath(hex string) string { return sourcesDir + "/" + hex }

// AddSource records that repository (a registry host and a repository
// name, "registry.example:5000/team/app") holds the blob dgst. It becomes
// the first of the blob's sources; beyond MaxSources, the oldest are
// forgotten.
func (c *Cache) AddSource(dgst digest.Digest, repository string) error {
	hex, err := sha256Hex(dgst)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := checkRepository(repository); err != nil {
		return err
	}
	name := sourcePath(hex)
	alreadyFirst := func(rec sourceRecord) bool {
		if len(rec.Repositories) == 0 || rec.Repositories[0] != repository {
			return false
		}
		c.touch(name)
		return true
	}
	// Usually the repository is already the latest: no lock, no write.
	if rec, err := c.readSources(name, dgst); err == nil && alreadyFirst(rec) {
		return nil
	}
	// Under the blob's lock, so that two processes recording different
	// repositories at once do not lose one.
	l, err := c.lock(hex)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer l.unlock(false)
	rec, err := c.readSources(name, dgst)
	if errors.Is(err, errCorrupt) {
		c.removeFiles(name)
	}
	if alreadyFirst(rec) {
		return nil
	}
	rec = sourceRecord{Digest: dgst, Repositories: append([]string{repository}, slices.DeleteFunc(rec.Repositories, func(r string) bool { return r == repository })...)}
	if len(rec.Repositories) > MaxSources {
		rec.Repositories = rec.Repositories[:MaxSources]
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := c.writeAtomic(name, append(data, '\n')); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Sources returns the repositories recorded as holding dgst, most recent
// first.
func (c *Cache) Sources(dgst digest.Digest) []string {
	hex, err := sha256Hex(dgst)
	if err != nil {
		return nil
	}
	name := sourcePath(hex)
	rec, err := c.readSources(name, dgst)
	if err != nil {
		if errors.Is(err, errCorrupt) {
			c.removeFiles(name)
		}
		return nil
	}
	c.touch(name)
	return rec.Repositories
}

func (c *Cache) readSources(name string, dgst digest.Digest) (sourceRecord, error) {
	var rec sourceRecord
	data, err := c.readSmall(name, maxSourceSize)
	if err != nil {
		return sourceRecord{}, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return sourceRecord{}, fmt.Errorf("%w: %s: %v", errCorrupt, name, err)
	}
	if rec.Digest != dgst || len(rec.Repositories) > MaxSources {
		return sourceRecord{}, fmt.Errorf("%w: %s: not a source record of %s", errCorrupt, name, dgst)
	}
	for _, r := range rec.Repositories {
		if err := checkRepository(r); err != nil {
			return sourceRecord{}, fmt.Errorf("%w: %s: %v", errCorrupt, name, err)
		}
	}
	return rec, nil
}

// checkRepository accepts what a registry host and a repository name can
// spell: no spaces, no "@" (so no user information, and no credentials),
// no scheme, and a "/" between host and name.
func checkRepository(r string) error {
	host, name, ok := strings.Cut(r, "/")
	if !ok || host == "" || name == "" || len(r) > maxRepositoryName || strings.Contains(r, "//") ||
		strings.Trim(strings.ToLower(r), "abcdefghijklmnopqrstuvwxyz0123456789.-_:/[]") != "" {
		return fmt.Errorf("cache: invalid repository %q", r)
	}
	return nil
}
