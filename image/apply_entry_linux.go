package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gocker/gocker/overlay"
)

// Each function here creates one entry named base in the directory
// parent, a descriptor from openParent. name is the cleaned entry name,
// for errors and the directory times. base never contains a slash and is
// never "." or "..", so the *at syscalls on parent cannot leave it.

// writeFile creates a regular file and copies its contents from contents.
func (a *applier) writeFile(parent int, name, base string, contents io.Reader, hdr *tar.Header) error {
	// O_EXCL makes openat fail on any existing entry, a symlink included,
	// instead of writing through it.
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(parent, base, flags, 0o600)
	if errors.Is(err, unix.EEXIST) {
		if err := a.removeExisting(parent, name, base); err != nil {
			return err
		}
		fd, err = unix.Openat(parent, base, flags, 0o600)
	}
	if err != nil {
		return &os.PathError{Op: "openat", Path: name, Err: err}
	}
	err = a.fillFile(fd, name, contents, hdr)
	if closeErr := unix.Close(fd); err == nil && closeErr != nil {
		err = &os.PathError{Op: "close", Path: name, Err: closeErr}
	}
	return err
}

// fillFile writes the contents of the open file fd, then its metadata. The
// xattrs are set after the contents, because a write removes
// security.capability.
func (a *applier) fillFile(fd int, name string, contents io.Reader, hdr *tar.Header) error {
	if err := a.copyContents(fd, name, contents); err != nil {
		return err
	}
	if err := a.setMetadataFD(fd, name, hdr); err != nil {
		return err
	}
	a.loadTimes(hdr)
	if err := futimens(fd, &a.ts); err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// copyContents copies contents to fd through the applier's buffer.
func (a *applier) copyContents(fd int, name string, contents io.Reader) error {
	for {
		n, readErr := contents.Read(a.buf)
		for written := 0; written < n; {
			m, err := unix.Write(fd, a.buf[written:n])
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return &os.PathError{Op: "write", Path: name, Err: err}
			}
			written += m
		}
		if errors.Is(readErr, io.EOF) {
			return nil
		}
		if readErr != nil {
			return fmt.Errorf("read layer tar: %w", readErr)
		}
	}
}

// makeDir creates a directory, or keeps the directory that is already at
// base, and sets its owner, xattrs and mode. Its times are set at the end.
func (a *applier) makeDir(parent int, name, base string, hdr *tar.Header) error {
	err := unix.Mkdirat(parent, base, 0o700)
	if errors.Is(err, unix.EEXIST) {
		err = a.replaceWithDir(parent, name, base)
	}
	if err != nil {
		return &os.PathError{Op: "mkdirat", Path: name, Err: err}
	}
	fd, err := unix.Openat(parent, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "openat", Path: name, Err: err}
	}
	err = a.setMetadataFD(fd, name, hdr)
	_ = unix.Close(fd)
	if err != nil {
		return err
	}
	a.loadTimes(hdr)
	a.dirTimes[name] = a.ts
	return nil
}

// replaceWithDir keeps an existing directory at base and replaces anything
// else with a new directory.
func (a *applier) replaceWithDir(parent int, name, base string) error {
	if err := unix.Fstatat(parent, base, &a.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if a.st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return nil
	}
	if err := a.removeExisting(parent, name, base); err != nil {
		return err
	}
	return unix.Mkdirat(parent, base, 0o700)
}

// makeSymlink creates a symlink. Its target is stored as it is: the
// applier never follows it.
func (a *applier) makeSymlink(parent int, name, base string, hdr *tar.Header) error {
	err := unix.Symlinkat(hdr.Linkname, parent, base)
	if errors.Is(err, unix.EEXIST) {
		if err := a.removeExisting(parent, name, base); err != nil {
			return err
		}
		err = unix.Symlinkat(hdr.Linkname, parent, base)
	}
	if err != nil {
		return &os.PathError{Op: "symlinkat", Path: name, Err: err}
	}
	// Linux has no mode for symlinks, so only the owner, xattrs and times
	// are set.
	return a.setMetadataAt(parent, name, base, hdr, false)
}

// makeNode creates a FIFO or a character or block device. A device that
// mknodat rejects with EPERM (no CAP_MKNOD, as in a user namespace) is
// skipped and counted.
func (a *applier) makeNode(parent int, name, base string, hdr *tar.Header) error {
	var mode uint32
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode = unix.S_IFCHR
	case tar.TypeBlock:
		mode = unix.S_IFBLK
	default:
		mode = unix.S_IFIFO
	}
	if hdr.Devmajor < 0 || hdr.Devmajor > 0xfff || hdr.Devminor < 0 || hdr.Devminor > 0xfffff {
		return fmt.Errorf("%w: device number %d:%d is out of range", ErrUnsupportedEntry, hdr.Devmajor, hdr.Devminor)
	}
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))

	err := unix.Mknodat(parent, base, mode|permBits(hdr), dev)
	if errors.Is(err, unix.EEXIST) {
		if err := a.removeExisting(parent, name, base); err != nil {
			return err
		}
		err = unix.Mknodat(parent, base, mode|permBits(hdr), dev)
	}
	if errors.Is(err, unix.EPERM) && mode != unix.S_IFIFO {
		a.skipDevice(name, err)
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return a.setMetadataAt(parent, name, base, hdr, true)
}

// skipDevice counts a device that could not be created. ApplyLayer logs
// one warning with the count and the first name, not one per device.
func (a *applier) skipDevice(name string, err error) {
	if a.skippedDevices == 0 {
		a.firstSkipped, a.skipErr = name, err
	}
	a.skippedDevices++
}

// hardlink links name to the entry linkname. The target must be inside
// the layer, reachable without a symlink, and created by an earlier entry
// of this layer (the directory started empty). linkat without
// AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
func (a *applier) hardlink(name, dirName, base, linkname string) error {
	target, err := cleanEntryName(linkname)
	if err != nil {
		return fmt.Errorf("hardlink target %s: %w", displayName(linkname), err)
	}
	if target == name {
		return fmt.Errorf("%w: hardlink to itself", ErrUnsupportedEntry)
	}
	if target == "." {
		return fmt.Errorf("hardlink target %s: %w: the layer root is a directory", displayName(linkname), ErrUnsupportedEntry)
	}

	// The target is resolved first, so a missing or unsafe target fails
	// before the entry's parent directories are created.
	targetDir, targetBase := splitEntryName(target)
	targetParent, err := a.openTargetParent(linkname, targetDir)
	if err != nil {
		return err
	}
	if targetParent != a.root {
		defer func() { _ = unix.Close(targetParent) }()
	}
	if err := a.checkLinkTarget(targetParent, linkname, targetBase); err != nil {
		return err
	}

	parent, err := a.openParent(dirName)
	if err != nil {
		return err
	}
	err = unix.Linkat(targetParent, targetBase, parent, base, 0)
	if errors.Is(err, unix.EEXIST) {
		if err := a.removeExisting(parent, name, base); err != nil {
			return err
		}
		err = unix.Linkat(targetParent, targetBase, parent, base, 0)
	}
	if errors.Is(err, unix.ENOENT) {
		// Removing the old entry at name removed the target too.
		return fmt.Errorf("%w: %s", ErrLinkTargetNotFound, displayName(linkname))
	}
	if err != nil {
		return &os.LinkError{Op: "linkat", Old: target, New: name, Err: err}
	}
	return nil
}

// openTargetParent opens the directory of a hardlink target with its own
// descriptor, because opening the entry's parent may close the cached
// one. It never creates directories.
func (a *applier) openTargetParent(linkname, targetDir string) (int, error) {
	if targetDir == "" {
		return a.root, nil
	}
	fd, err := a.openBeneath(a.root, targetDir)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return -1, fmt.Errorf("%w: %s", ErrLinkTargetNotFound, displayName(linkname))
	}
	if err != nil {
		return -1, fmt.Errorf("hardlink target %s: %w", displayName(linkname), a.resolveError(targetDir, err))
	}
	return fd, nil
}

// checkLinkTarget checks that the hardlink target exists and is not a
// directory, which linkat(2) cannot link.
func (a *applier) checkLinkTarget(targetParent int, linkname, targetBase string) error {
	err := unix.Fstatat(targetParent, targetBase, &a.st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%w: %s", ErrLinkTargetNotFound, displayName(linkname))
	}
	if err != nil {
		return &os.PathError{Op: "fstatat", Path: linkname, Err: err}
	}
	if a.st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("hardlink target %s: %w: it is a directory", displayName(linkname), ErrUnsupportedEntry)
	}
	return nil
}

// whiteout creates the overlay whiteout for target in the directory
// dirName. An entry that this layer already created at target is kept:
// a whiteout hides only what the layers below contain.
func (a *applier) whiteout(dirName, target string) error {
	parent, err := a.openParent(dirName)
	if err != nil {
		return err
	}
	err = overlay.CreateWhiteout(parent, target)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// opaque marks the directory dirName opaque.
func (a *applier) opaque(dirName string) error {
	parent, err := a.openParent(dirName)
	if err != nil {
		return err
	}
	return overlay.MarkOpaque(parent, a.opts.UserXattr)
}

// applyRoot sets the owner, xattrs and mode of the layer directory itself
// from an entry named "." or "/". The layer root can only be a directory.
func (a *applier) applyRoot(hdr *tar.Header) error {
	if hdr.Typeflag != tar.TypeDir {
		return fmt.Errorf("%w: the layer root must be a directory, not tar type %q", ErrUnsupportedEntry, hdr.Typeflag)
	}
	if err := a.setMetadataFD(a.root, ".", hdr); err != nil {
		return err
	}
	a.loadTimes(hdr)
	a.dirTimes["."] = a.ts
	return nil
}
