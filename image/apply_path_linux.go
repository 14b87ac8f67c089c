package image

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// openBeneath opens the directory name below dirFD without following any
// symlink, magic link or mount point, and without leaving dirFD.
func (a *applier) openBeneath(dirFD int, name string) (int, error) {
	for range 8 {
		fd, err := unix.Openat2(dirFD, name, &a.how)
		// openat2 returns EAGAIN when a concurrent rename or mount keeps
		// it from checking that a ".." element stays below dirFD. Cleaned
		// names have no "..", so this is not expected, and a few retries
		// cover it.
		if !errors.Is(err, unix.EAGAIN) {
			return fd, err
		}
	}
	return -1, unix.EAGAIN
}

// openParent returns a descriptor of the directory dirName ("" for the
// layer root), creating missing directories. The descriptor stays cached
// until the next call with another name, so the caller does not close it.
func (a *applier) openParent(dirName string) (int, error) {
	if dirName == "" {
		return a.root, nil
	}
	if a.parentFD >= 0 && a.parentName == dirName {
		return a.parentFD, nil
	}
	a.dropParent()
	fd, err := a.openBeneath(a.root, dirName)
	if errors.Is(err, unix.ENOENT) {
		fd, err = a.makeParents(dirName)
	}
	if err != nil {
		return -1, a.resolveError(dirName, err)
	}
	a.parentFD, a.parentName = fd, dirName
	return fd, nil
}

// dropParent closes the cached parent directory.
func (a *applier) dropParent() {
	if a.parentFD >= 0 {
		_ = unix.Close(a.parentFD)
	}
	a.parentFD, a.parentName = -1, ""
}

// makeParents opens dirName one element at a time, creating the missing
// ones with mode 0755, as tar(1) does for directories that a layer uses
// but does not list.
func (a *applier) makeParents(dirName string) (int, error) {
	fd := a.root
	rest := dirName
	for {
		elem, after, more := strings.Cut(rest, "/")
		next, err := a.openBeneath(fd, elem)
		if errors.Is(err, unix.ENOENT) {
			next, err = a.makeDir0755(fd, elem)
		}
		if fd != a.root {
			_ = unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		if !more {
			return next, nil
		}
		fd, rest = next, after
	}
}

// makeDir0755 creates the directory elem in dirFD and opens it. The mode
// is set with fchmod, because mkdirat(2) applies the umask.
func (a *applier) makeDir0755(dirFD int, elem string) (int, error) {
	if err := unix.Mkdirat(dirFD, elem, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, &os.PathError{Op: "mkdirat", Path: elem, Err: err}
	}
	fd, err := a.openBeneath(dirFD, elem)
	if err != nil {
		return -1, err
	}
	if err := unix.Fchmod(fd, 0o755); err != nil {
		_ = unix.Close(fd)
		return -1, &os.PathError{Op: "fchmod", Path: elem, Err: err}
	}
	return fd, nil
}

// resolveError explains why openat2 could not open the directory dirName.
func (a *applier) resolveError(dirName string, err error) error {
	switch {
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%w: the path goes through symlink %s, which is never followed",
			ErrUnsafeLayerPath, displayName(a.findSymlink(dirName)))
	case errors.Is(err, unix.EXDEV):
		return fmt.Errorf("%w: %s leaves the layer directory or crosses a mount point",
			ErrUnsafeLayerPath, displayName(dirName))
	case errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("open %s: openat2 is not supported, Linux 5.6 or later is required: %w",
			displayName(dirName), err)
	}
	if pathErr := (*os.PathError)(nil); errors.As(err, &pathErr) {
		return err
	}
	return &os.PathError{Op: "openat2", Path: dirName, Err: err}
}

// findSymlink returns the first prefix of dirName that is a symlink, or
// dirName when none is found. Every prefix before the symlink is a
// directory, so fstatat follows no symlink while it checks them.
func (a *applier) findSymlink(dirName string) string {
	for i := 1; i <= len(dirName); i++ {
		if i < len(dirName) && dirName[i] != '/' {
			continue
		}
		prefix := dirName[:i]
		if err := unix.Fstatat(a.root, prefix, &a.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			break
		}
		if a.st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return prefix
		}
	}
	return dirName
}

// removeExisting removes whatever is at base in parent, the entry name,
// so that an entry of another type can take its place. A directory is
// removed with everything below it.
func (a *applier) removeExisting(parent int, name, base string) error {
	err := unix.Unlinkat(parent, base, 0)
	switch {
	case err == nil, errors.Is(err, unix.ENOENT):
		return nil
	case errors.Is(err, unix.EISDIR):
		a.forgetDir(name)
		return a.removeDirAt(parent, base, name)
	}
	return &os.PathError{Op: "unlinkat", Path: name, Err: err}
}

// forgetDir drops the cached parent and the pending directory times for
// name and everything below it, before the directory name is removed.
func (a *applier) forgetDir(name string) {
	if hasPathPrefix(a.parentName, name) {
		a.dropParent()
	}
	for dir := range a.dirTimes {
		if hasPathPrefix(dir, name) {
			delete(a.dirTimes, dir)
		}
	}
}

// hasPathPrefix reports whether p is dir or below it.
func hasPathPrefix(p, dir string) bool {
	return strings.HasPrefix(p, dir) && (len(p) == len(dir) || p[len(dir)] == '/')
}

// removeDirAt removes the directory base in dirFD and its contents,
// opening each directory below it with O_NOFOLLOW, so a symlink inside
// is removed and never followed. name is the directory's entry name, for
// errors.
func (a *applier) removeDirAt(dirFD int, base, name string) error {
	fd, err := unix.Openat(dirFD, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "openat", Path: name, Err: err}
	}
	err = a.removeContents(fd, name)
	_ = unix.Close(fd)
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(dirFD, base, unix.AT_REMOVEDIR); err != nil {
		return &os.PathError{Op: "unlinkat", Path: name, Err: err}
	}
	return nil
}

// removeContents removes every entry of the directory fd.
func (a *applier) removeContents(fd int, name string) error {
	// All names are read before anything is removed, because removing
	// entries during getdents(2) can make it skip some.
	var children []string
	for {
		n, err := unix.Getdents(fd, a.buf)
		if err != nil {
			return &os.PathError{Op: "getdents", Path: name, Err: err}
		}
		if n == 0 {
			break
		}
		_, _, children = unix.ParseDirent(a.buf[:n], -1, children)
	}
	for _, child := range children {
		err := unix.Unlinkat(fd, child, 0)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
		case errors.Is(err, unix.EISDIR):
			if err := a.removeDirAt(fd, child, path.Join(name, child)); err != nil {
				return err
			}
		default:
			return &os.PathError{Op: "unlinkat", Path: path.Join(name, child), Err: err}
		}
	}
	return nil
}
