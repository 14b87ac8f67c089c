package image

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gocker/gocker/overlay"
)

const (
	// copyBufferSize is the size of the one buffer that file contents,
	// directory listings and the stream after the tar are read through.
	copyBufferSize = 1 << 20
	// readBufferSize is the size of the buffer in front of the caller's
	// reader, so that the tar reader's 512-byte header reads do not each
	// reach it. Reads of file contents are larger and bypass it.
	readBufferSize = 64 << 10
)

// ApplyLayer extracts the uncompressed tar stream r into dir, which must
// exist and be empty, and returns the stream's digest and size.
//
// Every entry is created relative to a descriptor of dir: parent
// directories are opened with openat2(2) and RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, and the
// entry is made with the *at syscalls on that descriptor. So no name, no
// symlink and no hardlink in the layer can create or change anything
// outside dir. Names that leave dir and paths through a symlink fail with
// [ErrUnsafeLayerPath]. Entries are applied in order, and a later entry
// replaces an earlier one of another type at the same name. An existing
// directory is kept when the new entry is a directory.
//
// Whiteouts (.wh.NAME) become overlay whiteouts and .wh..wh..opq marks its
// directory opaque with the xattr that opts.UserXattr selects. Owners are
// checked against opts.UIDs and opts.GIDs before anything is written for
// the entry ([ErrOwnerNotMapped]). Xattrs come from SCHILY.xattr PAX
// records: security.capability and user.* are set, trusted.* only when
// opts.UserXattr is false, and other namespaces are dropped. Overlay xattrs
// fail with [ErrOverlayXattr]. Directory times are set after the last
// entry. Character and block devices that mknod(2) rejects with EPERM are
// skipped and counted, with one warning to opts.Logger.
//
// ctx is checked between entries. On error, dir holds a partial tree that
// the caller removes. The caller runs ApplyLayer as root, or as root in
// the user namespace whose maps opts.UIDs and opts.GIDs describe.
func ApplyLayer(ctx context.Context, dir string, r io.Reader, opts ApplyOptions) (ApplyResult, error) {
	uidRanges, gidRanges, err := opts.validate()
	if err != nil {
		return ApplyResult{}, err
	}
	root, err := openLayerDir(dir)
	if err != nil {
		return ApplyResult{}, err
	}
	a := newApplier(root, &opts, uidRanges, gidRanges)
	defer a.close()

	digest := &digestReader{r: bufio.NewReaderSize(r, readBufferSize), hash: sha256.New()}
	if err := a.applyEntries(ctx, tar.NewReader(digest)); err != nil {
		return ApplyResult{}, err
	}
	if err := a.setDirTimes(); err != nil {
		return ApplyResult{}, err
	}
	// The digest covers the whole stream, so the blocks after the
	// end-of-archive marker that the tar reader leaves unread are hashed too.
	if err := digest.drain(a.buf); err != nil {
		return ApplyResult{}, fmt.Errorf("read layer stream: %w", err)
	}
	if a.skippedDevices > 0 {
		a.logger.Warn("skipped device nodes because mknod is not permitted, as in a user namespace",
			"count", a.skippedDevices, "first", a.firstSkipped, "error", a.skipErr)
	}
	return ApplyResult{
		DiffID:         "sha256:" + hex.EncodeToString(digest.hash.Sum(nil)),
		Size:           digest.size,
		SkippedDevices: a.skippedDevices,
	}, nil
}

// openLayerDir opens dir and checks that it is empty.
func openLayerDir(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			_ = unix.Close(fd)
			return -1, &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n == 0 {
			return fd, nil
		}
		if _, count, _ := unix.ParseDirent(buf[:n], 1, nil); count > 0 {
			_ = unix.Close(fd)
			return -1, fmt.Errorf("apply layer to %s: %w", dir, ErrLayerDirNotEmpty)
		}
	}
}

// applier holds the state of one ApplyLayer call.
type applier struct {
	root                 int // descriptor of the layer directory
	opts                 *ApplyOptions
	uidRanges, gidRanges string
	logger               *slog.Logger
	buf                  []byte
	how                  unix.OpenHow

	// parentFD is the directory the last entry went into, and parentName
	// its cleaned name. Tars list a directory's entries together, so most
	// entries reuse it. parentFD is -1 when nothing is cached.
	parentFD   int
	parentName string

	// dirTimes holds the times of each directory entry by cleaned name,
	// set after the last entry because creating entries changes them.
	dirTimes map[string][2]unix.Timespec

	// ts and st are scratch space, kept here so that each entry does not
	// allocate them.
	ts [2]unix.Timespec
	st unix.Stat_t

	skippedDevices int
	firstSkipped   string
	skipErr        error
}

func newApplier(root int, opts *ApplyOptions, uidRanges, gidRanges string) *applier {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &applier{
		root:      root,
		opts:      opts,
		uidRanges: uidRanges,
		gidRanges: gidRanges,
		logger:    logger,
		buf:       make([]byte, copyBufferSize),
		how: unix.OpenHow{
			Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS |
				unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
		},
		parentFD: -1,
		dirTimes: make(map[string][2]unix.Timespec),
	}
}

// close closes every descriptor the applier holds.
func (a *applier) close() {
	a.dropParent()
	_ = unix.Close(a.root)
}

func (a *applier) applyEntries(ctx context.Context, tr *tar.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		// With GODEBUG=tarinsecurepath=0 the reader flags names such as
		// "../x" but still returns the header. applyEntry checks every
		// name itself, more strictly.
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return fmt.Errorf("read layer tar: %w (is the input a tar archive, plain or compressed with gzip, zstd, xz or bzip2?)", err)
		}
		if err := a.applyEntry(tr, hdr); err != nil {
			return fmt.Errorf("layer entry %s: %w", displayName(hdr.Name), err)
		}
	}
}

// applyEntry checks everything about hdr that can be checked without the
// file system, and then creates the entry.
func (a *applier) applyEntry(contents io.Reader, hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader:
		// Global PAX records (git archive writes a commit id there)
		// describe the archive, not a file.
		return nil
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse, tar.TypeDir, tar.TypeSymlink,
		tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("%w: tar type %q", ErrUnsupportedEntry, hdr.Typeflag)
	}
	name, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	if err := checkOwnerID("uid", hdr.Uid, a.opts.UIDs, a.uidRanges); err != nil {
		return err
	}
	if err := checkOwnerID("gid", hdr.Gid, a.opts.GIDs, a.gidRanges); err != nil {
		return err
	}
	if err := checkXattrs(hdr.PAXRecords, a.opts.UserXattr); err != nil {
		return err
	}
	if name == "." {
		return a.applyRoot(hdr)
	}

	dirName, base := splitEntryName(name)
	kind, target, err := parseWhiteout(base)
	if err != nil {
		return err
	}
	switch kind {
	case whiteoutFile:
		return a.whiteout(dirName, target)
	case whiteoutOpaque:
		return a.opaque(dirName)
	case whiteoutMeta:
		a.logger.Debug("skipped aufs metadata entry", "entry", name)
		return nil
	}
	if strings.HasPrefix(name, overlay.WhiteoutMetaPrefix) {
		// Entries inside aufs metadata directories such as .wh..wh.plnk.
		a.logger.Debug("skipped aufs metadata entry", "entry", name)
		return nil
	}
	if hdr.Typeflag == tar.TypeLink {
		return a.hardlink(name, dirName, base, hdr.Linkname)
	}

	parent, err := a.openParent(dirName)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return a.makeDir(parent, name, base, hdr)
	case tar.TypeSymlink:
		return a.makeSymlink(parent, name, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return a.makeNode(parent, name, base, hdr)
	default:
		return a.writeFile(parent, name, base, contents, hdr)
	}
}

// setDirTimes sets the times of every directory entry. A directory that a
// later entry replaced, removed or turned into a symlink is skipped: the
// replacement has its own times.
func (a *applier) setDirTimes() error {
	for name, ts := range a.dirTimes {
		a.ts = ts
		if name == "." {
			if err := futimens(a.root, &a.ts); err != nil {
				return fmt.Errorf("layer entry .: %w", os.NewSyscallError("utimensat", err))
			}
			continue
		}
		fd, err := a.openBeneath(a.root, name)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("layer entry %s: %w", displayName(name), &os.PathError{Op: "openat2", Path: name, Err: err})
		}
		err = futimens(fd, &a.ts)
		_ = unix.Close(fd)
		if err != nil {
			return fmt.Errorf("layer entry %s: %w", displayName(name), &os.PathError{Op: "utimensat", Path: name, Err: err})
		}
	}
	return nil
}

// digestReader hashes and counts what is read through it.
type digestReader struct {
	r    io.Reader
	hash hash.Hash
	size int64
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.hash.Write(p[:n])
	d.size += int64(n)
	return n, err
}

// drain reads the rest of the stream through buf.
func (d *digestReader) drain(buf []byte) error {
	for {
		_, err := d.Read(buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
