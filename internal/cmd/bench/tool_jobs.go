package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// warm runs the blobber command prepare (untimed, its output discarded)
// with a new cache, then measures timed with the same cache.
func (b *bench) warm(run int, prepare []string, timed func() (sample, error)) (sample, error) {
	cache := filepath.Join(b.work, fmt.Sprintf("warm-read-cache-%d", run))
	defer os.RemoveAll(cache)
	b.cacheEnv = []string{"BLOBBER_CACHE_DIR=" + cache}
	defer func() { b.cacheEnv = nil }()
	if _, err := runCmd(b.command(b.tools["blobber"], nil, prepare...)); err != nil {
		return sample{}, fmt.Errorf("warming the cache with %v: %w", prepare, err)
	}
	return timed()
}

// push pushes ds to ref. crane's time includes making the tar it appends.
func (b *bench) push(ds *dataset, t *tool, ref string, env []string) (sample, error) {
	switch t.name {
	case "blobber":
		return b.measure(func() (usage, error) { return runCmd(b.command(t, env, "push", ds.dir, ref)) })
	case "oras":
		// ORAS packs a directory argument as a tar.gz layer named after it.
		cmd := b.command(t, env, "push", "--plain-http", ref, filepath.Base(ds.dir))
		cmd.cmd.Dir = filepath.Dir(ds.dir)
		return b.measure(func() (usage, error) { return runCmd(cmd) })
	case "crane":
		tarPath := filepath.Join(b.work, "crane-layer.tar")
		defer os.Remove(tarPath)
		return b.measure(func() (usage, error) {
			tu, err := runCmd(b.tar("-cf", tarPath, "-C", ds.dir, "."))
			if err != nil {
				return usage{}, err
			}
			u, err := runCmd(b.command(t, env, "append", "--insecure", "-f", tarPath, "-t", ref))
			u.cpu += tu.cpu
			return u, err
		})
	}
	return sample{}, fmt.Errorf("no push for %s", t.name)
}

// pushLayout pushes ds into a new OCI image layout, removed afterwards.
func (b *bench) pushLayout(ds *dataset, t *tool, run int, env []string) (sample, error) {
	dir := filepath.Join(b.work, fmt.Sprintf("layout-%d", run))
	defer os.RemoveAll(dir)
	return b.measure(func() (usage, error) {
		return runCmd(b.command(t, env, "push", "--oci-layout", ds.dir, dir+":v1"))
	})
}

// repushWarm pushes ds to ref again with blobber's cache as the push that
// made it left it: an untimed push into a new cache, then the timed one.
func (b *bench) repushWarm(ds *dataset, t *tool, ref string, run int) (sample, error) {
	cache := filepath.Join(b.work, fmt.Sprintf("warm-cache-%d", run))
	defer os.RemoveAll(cache)
	env := []string{"BLOBBER_CACHE_DIR=" + cache}
	if _, err := runCmd(b.command(t, env, "push", ds.dir, ref)); err != nil {
		return sample{}, err
	}
	return b.push(ds, t, ref, env)
}

// pull pulls ref into an empty directory and checks the tree against ds.
func (b *bench) pull(ds *dataset, t *tool, ref string, run int) (sample, error) {
	out := filepath.Join(b.work, fmt.Sprintf("pull-%s-%s-%d", ds.name, t.name, run))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return sample{}, err
	}
	defer b.discard(ds, out)
	got := out
	var fn func() (usage, error)
	switch t.name {
	case "blobber":
		fn = func() (usage, error) { return runCmd(b.command(t, nil, "pull", ref, out)) }
	case "oras":
		got = filepath.Join(out, filepath.Base(ds.dir))
		fn = func() (usage, error) { return runCmd(b.command(t, nil, "pull", "--plain-http", "-o", out, ref)) }
	case "crane":
		fn = func() (usage, error) {
			return runPipe(b.command(t, nil, "export", "--insecure", ref, "-"),
				b.tar("-x", "-C", out))
		}
	}
	s, err := b.measure(fn)
	if err != nil {
		return s, err
	}
	return s, verifyTree(ds, got)
}

// ls lists ref with blobber and checks that every entry is there.
func (b *bench) ls(ds *dataset, t *tool, ref string) (sample, error) {
	outPath := filepath.Join(b.work, "ls.out")
	defer os.Remove(outPath)
	f, err := os.Create(outPath)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	cmd := b.command(t, nil, "ls", ref)
	cmd.cmd.Stdout = f
	s, err := b.measure(func() (usage, error) { return runCmd(cmd) })
	if err != nil {
		return s, err
	}
	listing, err := os.ReadFile(outPath)
	if err != nil {
		return s, err
	}
	lines := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(listing))
	for sc.Scan() {
		lines[sc.Text()] = true
	}
	if len(lines) != ds.entries {
		return s, fmt.Errorf("ls printed %d entries, the tree has %d", len(lines), ds.entries)
	}
	for name := range ds.files {
		if !lines[name] {
			return s, fmt.Errorf("ls did not list %s", name)
		}
	}
	return s, nil
}

// cat reads one file with blobber (stdout to a file) and checks its digest.
func (b *bench) cat(ds *dataset, t *tool, ref, name string) (sample, error) {
	outPath := filepath.Join(b.work, "cat.out")
	defer os.Remove(outPath)
	f, err := os.Create(outPath)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	cmd := b.command(t, nil, "cat", ref, name)
	cmd.cmd.Stdout = f
	s, err := b.measure(func() (usage, error) { return runCmd(cmd) })
	if err != nil {
		return s, err
	}
	sum, err := fileSHA256(outPath)
	if err != nil {
		return s, err
	}
	if sum != ds.sums[name] {
		return s, fmt.Errorf("cat %s: sha256 %s, want %s", name, sum, ds.sums[name])
	}
	return s, nil
}

// verifyTree compares a pulled tree with the dataset: the same regular
// files with the same sizes, and the same content for a sample of them.
func verifyTree(ds *dataset, dir string) error {
	files, _, err := scanTree(dir)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var total int64
	for _, size := range files {
		total += size
	}
	if len(files) != len(ds.files) || total != ds.bytes {
		return fmt.Errorf("verify: pulled %d files, %d bytes; want %d files, %d bytes", len(files), total, len(ds.files), ds.bytes)
	}
	for name, size := range ds.files {
		if got, ok := files[name]; !ok || got != size {
			return fmt.Errorf("verify: %s: pulled size %d (present: %v), want %d", name, got, ok, size)
		}
	}
	names := make([]string, 0, len(ds.sums))
	for name := range ds.sums {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sum, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if sum != ds.sums[name] {
			return fmt.Errorf("verify: %s: sha256 %s, want %s", name, sum, ds.sums[name])
		}
	}
	return nil
}
