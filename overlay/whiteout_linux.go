package overlay

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// CreateWhiteout creates the overlay whiteout for name in the directory
// dirFD: a character device with device number 0/0, which overlay shows
// as "no such file" in the merged tree. The kernel lets a user namespace
// create this device without CAP_MKNOD (Linux 5.8 or later). When name
// exists, it returns an error that matches [fs.ErrExist].
func CreateWhiteout(dirFD int, name string) error {
	if err := unix.Mknodat(dirFD, name, unix.S_IFCHR, 0); err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return nil
}

// MarkOpaque marks the directory open as dirFD opaque, so overlay hides
// what the layers below put in it. dirFD must be a regular descriptor, not
// O_PATH, because fsetxattr(2) rejects O_PATH descriptors.
func MarkOpaque(dirFD int, userXattr bool) error {
	if err := unix.Fsetxattr(dirFD, OpaqueXattr(userXattr), []byte(OpaqueValue), 0); err != nil {
		return os.NewSyscallError("fsetxattr "+OpaqueXattr(userXattr), err)
	}
	return nil
}

// IsWhiteout reports whether fi, from [os.Lstat] or [fs.DirEntry.Info],
// describes an overlay whiteout.
func IsWhiteout(fi fs.FileInfo) bool {
	if fi.Mode().Type() != fs.ModeDevice|fs.ModeCharDevice {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

// IsOpaque reports whether the directory at path carries the opaque xattr
// of the namespace that userXattr selects. It does not follow a symlink
// at path.
func IsOpaque(path string, userXattr bool) (bool, error) {
	var value [len(OpaqueValue) + 1]byte
	n, err := unix.Lgetxattr(path, OpaqueXattr(userXattr), value[:])
	switch {
	case errors.Is(err, unix.ENODATA):
		return false, nil
	case errors.Is(err, unix.ERANGE):
		// The value is longer than "y", so it is not "y".
		return false, nil
	case err != nil:
		return false, &os.PathError{Op: "lgetxattr " + OpaqueXattr(userXattr), Path: path, Err: err}
	}
	return string(value[:n]) == OpaqueValue, nil
}
