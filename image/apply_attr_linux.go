package image

import (
	"archive/tar"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setMetadataFD sets the owner, xattrs and mode of the open file or
// directory fd, in that order. Chown of a non-directory clears the setuid
// and setgid bits and security.capability, so both are applied after it.
func (a *applier) setMetadataFD(fd int, name string, hdr *tar.Header) error {
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		return &os.PathError{Op: "fchown", Path: name, Err: err}
	}
	for xattr, value := range hdr.PAXRecords {
		xattr, ok := a.appliedXattr(xattr)
		if !ok {
			continue
		}
		if err := unix.Fsetxattr(fd, xattr, []byte(value), 0); err != nil {
			return &os.PathError{Op: "fsetxattr " + xattr, Path: name, Err: err}
		}
	}
	if err := unix.Fchmod(fd, permBits(hdr)); err != nil {
		return &os.PathError{Op: "fchmod", Path: name, Err: err}
	}
	return nil
}

// setMetadataAt sets the owner, xattrs, mode (when setMode is true) and
// times of the symlink or node base in parent, never following a symlink
// at base.
func (a *applier) setMetadataAt(parent int, name, base string, hdr *tar.Header, setMode bool) error {
	if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "fchownat", Path: name, Err: err}
	}
	if err := a.setXattrsAt(parent, name, base, hdr); err != nil {
		return err
	}
	if setMode {
		// fchmodat(2) has no AT_SYMLINK_NOFOLLOW before fchmodat2 (Linux
		// 6.6). base is the FIFO or device that mknodat created in this
		// call, and nothing else writes to the layer directory, so there is
		// no symlink to follow.
		if err := unix.Fchmodat(parent, base, permBits(hdr), 0); err != nil {
			return &os.PathError{Op: "fchmodat", Path: name, Err: err}
		}
	}
	a.loadTimes(hdr)
	if err := unix.UtimesNanoAt(parent, base, a.ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// setXattrsAt sets the xattrs of the symlink or node base in parent.
// Opening a FIFO or device to get a descriptor could block or reach a
// driver, so the xattrs are set through the path /proc/self/fd/PARENT/base
// with lsetxattr, which does not follow a symlink at base. Only this case
// needs /proc.
func (a *applier) setXattrsAt(parent int, name, base string, hdr *tar.Header) error {
	var procPath string
	for xattr, value := range hdr.PAXRecords {
		xattr, ok := a.appliedXattr(xattr)
		if !ok {
			continue
		}
		if procPath == "" {
			procPath = "/proc/self/fd/" + strconv.Itoa(parent) + "/" + base
		}
		if err := unix.Lsetxattr(procPath, xattr, []byte(value), 0); err != nil {
			return &os.PathError{Op: "lsetxattr " + xattr, Path: name, Err: err}
		}
	}
	return nil
}

// appliedXattr returns the xattr name of a PAX record key and whether
// [xattrPolicy] applies it. Rejected xattrs never get here, because
// applyEntry checks them before any write.
func (a *applier) appliedXattr(key string) (string, bool) {
	xattr, ok := strings.CutPrefix(key, paxXattrPrefix)
	if !ok || xattrPolicy(xattr, a.opts.UserXattr) != xattrApply {
		return "", false
	}
	return xattr, true
}

// permBits returns the permission bits of hdr with setuid, setgid and
// sticky, without the file type bits that some tar writers add.
func permBits(hdr *tar.Header) uint32 {
	return uint32(hdr.Mode) & 0o7777
}

// loadTimes stores the access and modification times of hdr in a.ts. Only
// PAX and GNU headers carry an access time. Without one, the access time
// is left as it is.
func (a *applier) loadTimes(hdr *tar.Header) {
	a.ts[0] = timespec(hdr.AccessTime)
	a.ts[1] = timespec(hdr.ModTime)
}

// timespec converts t for utimensat(2), with UTIME_OMIT for the zero time.
// It does not use UnixNano, which overflows outside the years 1678 to
// 2262.
func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// futimens sets the times of the open file fd. It calls utimensat(2) with
// a NULL path, as futimens(3) does, because golang.org/x/sys/unix has no
// wrapper for that form.
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
