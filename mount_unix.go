//go:build linux || darwin

package blobber

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/blobber-dev/blobber/internal/toc"
)

// mountCacheTimeout is how long the kernel may keep names and attributes:
// an artifact never changes under its digest, so as long as it likes.
const mountCacheTimeout = 24 * time.Hour

// mountMaxRead is the largest read the kernel sends (FUSE's max_pages
// follows MaxWrite). The kernel reads ahead at most the mount's readahead
// (raiseReadahead), in requests of up to this, and Blobber's prefetch of
// the chunks that follow does the rest on sequential reads. It is small
// because go-fuse holds a buffer this big for each request read and for
// each reply (though replies are written from the chunks): with larger
// reads these take several MiB of heap beside the chunks, and the
// collector, at the CLI's soft memory limit, runs all the time.
const mountMaxRead = 256 << 10

// mountMaxBackground is how many reads the kernel may have in flight in
// the background (its readahead), where FUSE's default is 12. A read that
// waits for room in the mount's budget keeps its place until it gets it,
// and as root the kernel reads ahead a file in up to 16 requests: with
// a dozen places, the reads of files that wait for room took them all,
// and the files that held chunks could not be read on and let go of them,
// until the chunks looked idle and were dropped, to be fetched again. Each
// read in flight holds go-fuse's reply buffer of mountMaxRead, so this many
// cost at most 16 MiB.
const mountMaxBackground = 64

func (img *Image) mount(dir string, o mountOptions) (*Mounted, error) {
	timeout := mountCacheTimeout
	tree := &mountTree{img: img, mem: newMountMemory(mountBudget), inodes: map[*toc.Entry]*fusefs.Inode{}, links: countLinks(img.index)}
	tree.tune = func() { raiseReadahead(dir, img.client.opts.logger) }
	root := &mountRoot{entryNode{tree: tree, e: img.index.Root}}
	server, err := fusefs.Mount(dir, root, &fusefs.Options{
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &timeout,
		UID:             uint32(os.Getuid()),
		GID:             uint32(os.Getgid()),
		MountOptions: fuse.MountOptions{
			FsName:        mountSourceName(img.name),
			Name:          "blobber",
			AllowOther:    o.allowOther,
			MaxReadAhead:  mountMaxRead,
			MaxWrite:      mountMaxRead,
			MaxBackground: mountMaxBackground,
			Options:       []string{"ro", "nosuid", "nodev"},
			// The kernel reads ahead in the background (FUSE's async
			// reads), while the reader goes on with what it has; the
			// mountReader of the open file serves reads in any order.
			// As root, mount(2) directly: no need for fusermount3.
			// Others fall back to fusermount3.
			DirectMount: os.Geteuid() == 0,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("mounting %s at %s: %w", img.name, dir, err)
	}
	// Before the mount is used, if it can be: the kernel sets a file's
	// readahead when it opens it (Open waits for this too, should a file be
	// opened the moment the mount shows).
	tree.tuneOnce.Do(tree.tune)
	served := make(chan struct{})
	go func() {
		server.Wait()
		close(served)
	}()
	m := &Mounted{dir: dir, wait: func() { <-served }, mem: tree.mem}
	m.unmount = func() error {
		select {
		case <-served: // unmounted already, from outside
			return nil
		default:
		}
		err := server.Unmount()
		if err == nil {
			return nil
		}
		select {
		case <-served: // unmounted from outside meanwhile
			return nil
		case <-time.After(time.Second):
		}
		// Something still holds a file or the directory open: detach
		// the mount rather than leave it behind. The server's loops end
		// when the last of those closes.
		if derr := detach(dir); derr != nil {
			return errors.Join(err, derr)
		}
		return nil
	}
	return m, nil
}

// mountSourceName is the artifact's name as the mount table shows it;
// the mount options are a comma-separated list.
func mountSourceName(name string) string {
	return strings.NewReplacer(",", "_", " ", "_", "\\", "_").Replace(name)
}

// mountTree holds what the nodes of one mount share.
type mountTree struct {
	img *Image
	// mem is the budget of the chunks of all the open files.
	mem *mountMemory
	// inodes maps an entry to its inode, so that the hardlinks to a
	// file share one.
	inodes map[*toc.Entry]*fusefs.Inode
	// links counts the names of each file and the subdirectories of each
	// directory.
	links map[*toc.Entry]uint32
	// tune sets what the kernel's side of the mount takes from outside
	// FUSE's handshake (raiseReadahead), once.
	tune     func()
	tuneOnce sync.Once
}

// countLinks counts each entry's links: for a file, its names (hardlinks
// included); for a directory, 2 and one per subdirectory.
func countLinks(index *toc.Index) map[*toc.Entry]uint32 {
	links := map[*toc.Entry]uint32{index.Root: 2}
	var walk func(e *toc.Entry)
	walk = func(e *toc.Entry) {
		for _, c := range e.Children() {
			target := c
			if c.Type == toc.TypeHardlink {
				t, ok := index.Lookup(c.LinkName())
				if !ok {
					continue
				}
				target = t
			}
			if c.Type == toc.TypeDir {
				links[e]++
				links[c] += 2
				walk(c)
				continue
			}
			links[target]++
		}
	}
	walk(index.Root)
	return links
}

// entryNode is one entry of the artifact's table of contents.
type entryNode struct {
	fusefs.Inode
	tree *mountTree
	e    *toc.Entry
}

var (
	_ fusefs.NodeGetattrer  = (*entryNode)(nil)
	_ fusefs.NodeReadlinker = (*entryNode)(nil)
	_ fusefs.NodeGetxattrer = (*entryNode)(nil)
	_ fusefs.NodeOpener     = (*entryNode)(nil)
	_ fusefs.NodeOnAdder    = (*mountRoot)(nil)
)

// mountRoot is the root directory, which builds the tree under it when
// mounted: names and attributes all come from the table of contents, which
// is in memory already.
type mountRoot struct{ entryNode }

func (r *mountRoot) OnAdd(ctx context.Context) {
	r.tree.addChildren(ctx, &r.Inode, r.e)
}

func (t *mountTree) addChildren(ctx context.Context, parent *fusefs.Inode, dir *toc.Entry) {
	for _, c := range dir.Children() {
		target := c
		if c.Type == toc.TypeHardlink {
			var ok bool
			if target, ok = t.img.index.Lookup(c.LinkName()); !ok {
				continue
			}
		}
		child, ok := t.inodes[target]
		if !ok {
			child = parent.NewPersistentInode(ctx, &entryNode{tree: t, e: target}, fusefs.StableAttr{Mode: fileType(target.Type)})
			t.inodes[target] = child
			if target.Type == toc.TypeDir {
				t.addChildren(ctx, child, target)
			}
		}
		parent.AddChild(path.Base(c.Name), child, false)
	}
}

// fileType is the S_IFMT bits of an entry type.
func fileType(t toc.EntryType) uint32 {
	switch t {
	case toc.TypeDir:
		return syscall.S_IFDIR
	case toc.TypeSymlink:
		return syscall.S_IFLNK
	case toc.TypeChar:
		return syscall.S_IFCHR
	case toc.TypeBlock:
		return syscall.S_IFBLK
	case toc.TypeFifo:
		return syscall.S_IFIFO
	}
	return syscall.S_IFREG
}

// permBits is the permission and setuid/setgid/sticky bits of a mode as
// stat(2) has them.
func permBits(m fs.FileMode) uint32 {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		bits |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		bits |= syscall.S_ISVTX
	}
	return bits
}

func (n *entryNode) Getattr(ctx context.Context, _ fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e := n.e
	out.Mode = permBits(e.Mode) | fileType(e.Type)
	if e.Type == toc.TypeSymlink {
		out.Size = uint64(len(e.LinkName()))
	} else if e.Type == toc.TypeReg {
		out.Size = uint64(e.Size)
	}
	out.Blocks = (out.Size + 511) / 512
	out.Nlink = max(1, n.tree.links[e])
	if mtime := e.ModTime(); !mtime.IsZero() {
		out.SetTimes(nil, &mtime, &mtime)
	}
	out.SetTimeout(mountCacheTimeout)
	return 0
}

// Getxattr and Listxattr answer ENOSYS: the kernel then knows that the
// mount has no extended attributes and stops asking (ls -l asks for each
// file otherwise, and no answer of another kind is cached).
func (n *entryNode) Getxattr(context.Context, string, []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

func (n *entryNode) Listxattr(context.Context, []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

func (n *entryNode) Readlink(context.Context) ([]byte, syscall.Errno) {
	if n.e.Type != toc.TypeSymlink {
		return nil, syscall.EINVAL
	}
	return []byte(n.e.LinkName()), 0
}

func (n *entryNode) Open(_ context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if n.e.Type != toc.TypeReg {
		return nil, 0, syscall.EINVAL
	}
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC|syscall.O_APPEND) != 0 {
		return nil, 0, syscall.EROFS
	}
	n.tree.tuneOnce.Do(n.tree.tune)
	// The content never changes: what the kernel cached from an earlier
	// open stays good.
	return &mountedFile{r: n.tree.mem.newReader(n.tree.img, n.e)}, fuse.FOPEN_KEEP_CACHE, 0
}

// mountedFile is an open file of a mount: its reads, which the kernel may
// send several at a time and out of order, go through a mountReader.
type mountedFile struct {
	r *mountReader
}

var (
	_ fusefs.FileReader   = (*mountedFile)(nil)
	_ fusefs.FileReleaser = (*mountedFile)(nil)
)

func (h *mountedFile) Read(_ context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	parts, release, err := h.r.slices(off, len(dest))
	if errors.Is(err, errMountReadSplit) {
		var n int
		if n, err = h.r.ReadAt(dest, off); err == nil {
			return fuse.ReadResultData(dest[:n]), 0
		}
	}
	if err != nil {
		img := h.r.img
		log := img.client.opts.logger.Debug
		if errors.Is(err, ErrLimitExceeded) {
			// Not a fault of the moment: say why the file cannot be read.
			log = img.client.opts.logger.Warn
		}
		log("mount: read failed", "artifact", img.name, "path", h.r.e.Name, "offset", off, "error", err)
		return nil, syscall.EIO
	}
	return &chunkReadResult{parts: parts, release: release}, 0
}

// chunkReadResult is a read's reply straight from the chunks that hold its
// bytes: go-fuse writes them to the kernel as they are (Slices), with no
// copy, and then calls Done, which lets the chunks go.
type chunkReadResult struct {
	parts   [][]byte
	release func()
	once    sync.Once
}

func (r *chunkReadResult) Size() int {
	n := 0
	for _, p := range r.parts {
		n += len(p)
	}
	return n
}

func (r *chunkReadResult) Slices() ([][]byte, fuse.Status) { return r.parts, fuse.OK }

// Bytes copies: go-fuse may use what it returns after Done.
func (r *chunkReadResult) Bytes(buf []byte) ([]byte, fuse.Status) {
	if n := r.Size(); cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	buf = buf[:0]
	for _, p := range r.parts {
		buf = append(buf, p...)
	}
	return buf, fuse.OK
}

func (r *chunkReadResult) Done() { r.once.Do(r.release) }

func (h *mountedFile) Release(context.Context) syscall.Errno {
	h.r.Close()
	return 0
}

// unmountDir unmounts dir with the first of the system's tools that
// succeeds.
func unmountDir(dir string) error {
	var tools [][]string
	if runtime.GOOS == "linux" {
		tools = [][]string{{"fusermount3", "-u"}, {"fusermount", "-u"}}
	}
	tools = append(tools, []string{"umount"})
	return runFirst(tools, dir)
}

// detach unmounts dir even while files on it are open: they keep working
// until closed, and the mount is gone from the namespace at once.
func detach(dir string) error {
	if runtime.GOOS == "linux" {
		return runFirst([][]string{{"fusermount3", "-u", "-z"}, {"fusermount", "-u", "-z"}, {"umount", "-l"}}, dir)
	}
	return runFirst([][]string{{"umount", "-f"}}, dir)
}

func runFirst(tools [][]string, dir string) error {
	var errs []error
	for _, tool := range tools {
		if _, err := exec.LookPath(tool[0]); err != nil {
			continue
		}
		out, err := exec.Command(tool[0], append(tool[1:], dir)...).CombinedOutput()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w: %s", strings.Join(tool, " "), err, strings.TrimSpace(string(out))))
	}
	if len(errs) == 0 {
		return errors.New("found none of fusermount3, fusermount, umount")
	}
	return errors.Join(errs...)
}
