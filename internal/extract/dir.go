// Package extract writes an artifact's files into a directory, never outside
// it, and removes what it created if the extraction fails.
//
// Every name, mode, time and link target handed to this package is treated as
// hostile. All file system access below the target directory goes through an
// os.Root, so even a symlink that slipped past the checks here cannot redirect
// a write outside it; the checks on top of that (no symlinks as parent
// directories, symlink targets that must resolve inside) keep the extracted
// tree itself from becoming a trap for later tools.
package extract

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Options tune an extraction.
type Options struct {
	// Overwrite replaces existing non-directory files, atomically by rename.
	// Without it any existing non-directory path the artifact names is an
	// error. Directories are never replaced.
	Overwrite bool
	// KeepTimes applies the modification times given to Mkdir, CreateFile
	// and Symlink; otherwise files keep the time they were written.
	KeepTimes bool

	// perFile takes the per-file path even into an empty directory, for
	// tests of that path.
	perFile bool
}

// kind is what this extraction put at a non-directory path.
type kind uint8

const (
	kindFile    kind = iota + 1 // regular file, including hard links
	kindSymlink                 // symlink, re-verified at Commit
)

// dirMeta is what the artifact asked for a directory it names.
type dirMeta struct {
	mode    fs.FileMode
	modTime time.Time
}

type state uint8

const (
	active state = iota
	committed
	aborted
)

// defaultDirMode is what directories get that the artifact only implies as
// parents, before the umask, matching what tar does.
const defaultDirMode fs.FileMode = 0o755

// errFinished is returned by operations after Commit or Abort.
var errFinished = errors.New("extract: extraction already committed or aborted")

// Dir is one extraction in progress into a directory. Its methods, and those
// of the Files it creates, may be called from several goroutines at once.
type Dir struct {
	opts     Options
	given    string   // the target directory as the caller named it, for messages
	root     *os.Root // where entries are written: the staging directory while staging
	openMade []string // directories Open created, deepest first

	// While staging (see staging.go), outer is the target directory and
	// staging the name of the hidden directory in it; moved lists what
	// Commit has moved up from it.
	outer   *os.Root
	staging string
	lock    *os.File // the staging directory's lock, held while it exists
	moved   []string
	staged  bool // the extraction went through a staging directory
	dirs    dirHandles

	// noHardLinks makes install take its paths for file systems without
	// hard links; only tests set it.
	noHardLinks bool
	// afterMove, if set, runs in Commit once the staging directory is
	// gone and before the modes are applied; only tests set it.
	afterMove func()

	// op is held shared by every operation and exclusively by Commit and
	// Abort, so nothing can be created behind the back of a cleanup.
	op    sync.RWMutex
	state state // written only with op held exclusively

	mu           sync.Mutex         // guards the bookkeeping below
	made         map[string]bool    // directories this extraction created
	meta         map[string]dirMeta // applied at Commit, to made ones only
	known        map[string]bool    // verified real directories, to skip Lstat
	entries      map[string]kind
	backups      map[string]string // replaced original -> its saved copy
	open         map[*File]struct{}
	modesApplied bool
}

// Open prepares extraction into dir, creating it and missing parents; it
// remembers which of them it created so that Abort can remove them again.
func Open(dir string, opts Options) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("extract: empty target directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	processUmask() // read before this extraction's goroutines make files
	made, err := mkdirAllTracked(abs)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		_ = removeMade(made)
		return nil, err
	}
	// What a killed pull left is not in the way of this one; what cannot
	// be removed only makes the directory not empty.
	_ = removeStaleStaging(root)
	var outer *os.Root
	var lock *os.File
	staging := ""
	if empty, err := isEmptyDir(root); err == nil && empty && !opts.perFile {
		name, sroot, l, err := startStaging(root)
		if err != nil {
			root.Close()
			_ = removeMade(made)
			// The staging names are this package's own; the user named dir.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				pe.Path = dir
			}
			return nil, err
		}
		outer, staging, root, lock = root, name, sroot, l
	}
	return &Dir{
		opts:     opts,
		given:    dir,
		root:     root,
		outer:    outer,
		staging:  staging,
		lock:     lock,
		staged:   staging != "",
		openMade: made,
		made:     map[string]bool{},
		meta:     map[string]dirMeta{},
		known:    map[string]bool{".": true},
		entries:  map[string]kind{},
		backups:  map[string]string{},
		open:     map[*File]struct{}{},
	}, nil
}

// mkdirAllTracked is os.MkdirAll that reports, deepest first, the directories
// it created itself, so that a concurrent creator's directory is not ours.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for p := dir; ; {
		_, err := os.Stat(p)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, p)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o755)
		if err == nil {
			made = append(made, missing[i])
		} else if !errors.Is(err, fs.ErrExist) {
			slices.Reverse(made)
			_ = removeMade(made)
			return nil, err
		}
	}
	slices.Reverse(made)
	return made, nil
}

// removeMade removes directories Open created, deepest first, stopping at the
// first one something else has meanwhile put content into.
func removeMade(made []string) error {
	for _, p := range made {
		if err := os.Remove(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if isNotEmpty(err) {
				return nil
			}
			return err
		}
	}
	return nil
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}

// begin admits an operation; the caller must d.op.RUnlock when done.
func (d *Dir) begin() error {
	d.op.RLock()
	if d.state != active {
		d.op.RUnlock()
		return errFinished
	}
	return nil
}

// Check reports, without writing anything, whether writing the entry would
// conflict with what is already in the directory, so that a pull can fail
// before downloading anything. Existing parents must be real directories.
func (d *Dir) Check(name string, isDir bool) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.op.RUnlock()
	clean, err := CleanName(name)
	if err != nil {
		return err
	}
	if clean == "." {
		if isDir {
			return nil
		}
		return existsErr(clean, "is the target directory")
	}
	if d.staging != "" {
		return nil // the target was empty
	}
	for i := range len(clean) {
		if clean[i] != '/' {
			continue
		}
		p := clean[:i]
		fi, err := d.root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return traversalErr(p, "parent directory is a symlink")
		}
		if !fi.IsDir() {
			return existsErr(p, "parent is not a directory")
		}
	}
	fi, err := d.root.Lstat(clean)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case isDir && !fi.IsDir():
		return existsErr(clean, "exists and is not a directory")
	case isDir:
		return nil
	case fi.IsDir():
		return existsErr(clean, "is a directory")
	case !d.opts.Overwrite:
		return existsErr(clean, "already exists")
	}
	return nil
}

// Mkdir creates the directory name and any missing parents. An existing
// directory is accepted, and left as it was if this extraction did not make
// it. The mode is applied at Commit, so that a read-only directory can still
// receive its content first.
func (d *Dir) Mkdir(name string, mode fs.FileMode, modTime time.Time) (err error) {
	defer func() { err = d.userPath(err, name) }()
	if err := d.begin(); err != nil {
		return err
	}
	defer d.op.RUnlock()
	clean, err := CleanName(name)
	if err != nil {
		return err
	}
	if clean == "." {
		return nil
	}
	if err := d.makeParents(clean); err != nil {
		return err
	}
	return d.ensureDir(clean, &dirMeta{mode: sanitizeMode(mode), modTime: modTime})
}

// makeParents makes sure every proper prefix of name is a real directory,
// creating the missing ones. A symlink as a parent is refused even when it
// points inside: os.Root would follow it, and an artifact that writes through
// its own symlinks is how extraction attacks start.
func (d *Dir) makeParents(name string) error {
	for i := range len(name) {
		if name[i] == '/' {
			if err := d.ensureDir(name[:i], nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureDir makes p a directory. meta is nil for parents the artifact only
// implies. It is recorded before anything else so that it is not lost when a
// concurrent worker happens to create p as a parent first.
func (d *Dir) ensureDir(p string, meta *dirMeta) error {
	d.mu.Lock()
	if meta != nil {
		d.meta[p] = *meta
	}
	ok := d.known[p]
	d.mu.Unlock()
	if ok {
		return nil
	}
	var fi fs.FileInfo
	err := fs.ErrNotExist
	if d.staging == "" {
		// While staging, p is most likely new: try Mkdir first.
		fi, err = d.root.Lstat(p)
	}
	if errors.Is(err, fs.ErrNotExist) {
		// Owner-only until Commit, whatever the artifact asked for, so
		// that content can go in and nobody else looks in half-way.
		err = d.root.Mkdir(p, 0o700)
		if err == nil {
			d.mu.Lock()
			d.made[p] = true
			d.known[p] = true
			d.mu.Unlock()
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// A concurrent worker made it first; see what is there now.
		fi, err = d.root.Lstat(p)
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if meta != nil {
			return existsErr(p, "is a symlink, not a directory")
		}
		return traversalErr(p, "parent directory is a symlink")
	}
	if !fi.IsDir() {
		return existsErr(p, "exists and is not a directory")
	}
	d.mu.Lock()
	d.known[p] = true
	d.mu.Unlock()
	return nil
}
