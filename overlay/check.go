package overlay

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gocker/gocker/hostcheck"
)

// KernelVersion is the major and minor number of a Linux release.
type KernelVersion struct {
	Major, Minor int
}

// ParseKernelRelease reads the version from a release string as uname(2)
// returns it, such as "6.1.0-18-amd64" or "5.15.0-1057-azure".
func ParseKernelRelease(release string) (KernelVersion, error) {
	fields := strings.SplitN(release, ".", 3)
	if len(fields) < 2 {
		return KernelVersion{}, fmt.Errorf("kernel release %q has no MAJOR.MINOR", release)
	}
	major, err1 := strconv.Atoi(fields[0])
	minor, err2 := strconv.Atoi(leadingDigits(fields[1]))
	if err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return KernelVersion{}, fmt.Errorf("kernel release %q has no MAJOR.MINOR", release)
	}
	return KernelVersion{Major: major, Minor: minor}, nil
}

// leadingDigits returns the decimal digits that s starts with, so that
// "19-rc3" gives "19".
func leadingDigits(s string) string {
	end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		return s
	}
	return s[:end]
}

// AtLeast reports whether v is major.minor or later.
func (v KernelVersion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

func (v KernelVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// KernelResult decides whether the running kernel, with uname(2) release
// release, is new enough: overlay in a user namespace needs Linux 5.11,
// and mount_setattr(2), which every container's mounts use, needs 5.12.
func KernelResult(release string) hostcheck.Result {
	res := hostcheck.Result{Check: "kernel", Status: hostcheck.Fail}
	v, err := ParseKernelRelease(release)
	switch {
	case err != nil:
		res.Status = hostcheck.Warn
		res.Detail = err.Error() + ", so gocker cannot tell whether it is Linux 5.12 or later"
	case v.AtLeast(5, 12):
		res.Status = hostcheck.OK
		res.Detail = "Linux " + release
	default:
		res.Detail = fmt.Sprintf("Linux %s, older than 5.12: overlay in a user namespace needs 5.11 and mount_setattr 5.12", release)
		res.Fix = []string{"# install and boot Linux 5.12 or later from the distribution's kernel packages"}
	}
	return res
}

// Filesystem magic numbers from statfs(2), as linux/magic.h defines them.
// They are repeated here so that the decision code builds on every OS.
const (
	magicExt4     = 0xEF53 // ext2, ext3 and ext4 share it
	magicXFS      = 0x58465342
	magicBtrfs    = 0x9123683E
	magicF2FS     = 0xF2F52010
	magicZFS      = 0x2FC12FC1
	magicTmpfs    = 0x01021994
	magicNFS      = 0x6969
	magicOverlay  = 0x794C7630
	magicFUSE     = 0x65735546
	magicEcryptfs = 0xF15F
	magicCIFS     = 0xFF534D42
	magicSMB2     = 0xFE534D42
)

var filesystemNames = map[int64]string{
	magicExt4: "ext4", magicXFS: "xfs", magicBtrfs: "btrfs", magicF2FS: "f2fs",
	magicZFS: "zfs", magicTmpfs: "tmpfs", magicNFS: "nfs", magicOverlay: "overlayfs",
	magicFUSE: "fuse", magicEcryptfs: "ecryptfs", magicCIFS: "cifs", magicSMB2: "smb2",
}

// unsupportedUpper lists filesystems that overlay does not support as
// upper filesystem: overlayfs itself, which the kernel rejects ("not
// supported as upperdir"), and network filesystems, which the kernel's
// overlayfs documentation calls unsuitable.
var unsupportedUpper = map[int64]bool{
	magicNFS: true, magicOverlay: true, magicCIFS: true, magicSMB2: true,
}

// FilesystemName returns the name of the filesystem with statfs magic
// number magic, or the number in hex when the table above lacks it.
func FilesystemName(magic int64) string {
	if name, ok := filesystemNames[magic]; ok {
		return name
	}
	return fmt.Sprintf("filesystem 0x%x", magic)
}

// StoreState is the input of [StoreResult].
type StoreState struct {
	Root     string
	Rootless bool
	// Magic is the statfs f_type of the store root.
	Magic  int64
	Kernel KernelVersion
	// XattrErr is the outcome of setting an xattr on a file in the store,
	// in the namespace that overlay will use: user.* rootless, trusted.*
	// for root. Nil means it worked.
	XattrErr error
	// Err is a failure to create or inspect the store root.
	Err error
}

var storeFix = []string{"# pass --root DIR or set GOCKER_ROOT=DIR, with DIR on ext4, xfs or btrfs"}

// StoreResult decides whether the store root can hold overlay upper
// directories: the filesystem must keep overlay's xattrs and must be one
// that overlay accepts as upper filesystem.
func StoreResult(s StoreState) hostcheck.Result {
	res := hostcheck.Result{Check: "store-fs", Status: hostcheck.Fail, Fix: storeFix}
	fsName := FilesystemName(s.Magic)
	switch {
	case s.Err != nil:
		res.Detail = s.Err.Error()
	case s.XattrErr != nil:
		res.Detail = fmt.Sprintf("%s is on %s, which rejects %s xattrs (%v), and overlay keeps whiteouts and opaque directories in them",
			s.Root, fsName, xattrNamespace(s.Rootless), s.XattrErr)
		if s.Magic == magicTmpfs && !s.Kernel.AtLeast(6, 6) {
			res.Detail += fmt.Sprintf("; tmpfs stores user xattrs from Linux 6.6, this kernel is %s", s.Kernel)
		}
	case unsupportedUpper[s.Magic]:
		res.Status = hostcheck.Warn
		res.Detail = fmt.Sprintf("%s is on %s, which overlay does not accept as upper filesystem; the overlay check below shows whether this kernel does", s.Root, fsName)
	default:
		res.Status = hostcheck.OK
		res.Fix = nil
		res.Detail = fmt.Sprintf("%s is on %s, %s xattrs work", s.Root, fsName, xattrNamespace(s.Rootless))
		if s.Magic == magicTmpfs {
			res.Detail += "; tmpfs loses images and containers at reboot"
		}
	}
	return res
}

func xattrNamespace(rootless bool) string {
	if rootless {
		return "user.*"
	}
	return "trusted.*"
}

// MountState is the input of [MountResult].
type MountState struct {
	Rootless bool
	Kernel   KernelVersion
	// Options are the mount options the check used.
	Options string
	// RunErr is a failure to run the check at all, which happens when the
	// store root cannot be prepared or no user namespace can be created.
	RunErr error
	// MountErr is the failure of the mount or of a step through it.
	MountErr string
}

// MountResult decides whether overlay works as gocker mounts it: with
// userxattr in a user namespace for rootless users, with trusted xattrs
// for root.
func MountResult(s MountState) hostcheck.Result {
	res := hostcheck.Result{Check: "overlay", Status: hostcheck.Fail}
	where := "as root"
	if s.Rootless {
		where = "in a user namespace"
	}
	switch {
	case s.RunErr != nil:
		res.Status = hostcheck.Warn
		res.Detail = "not checked: " + s.RunErr.Error()
		res.Fix = []string{"# fix the failing checks above, then run gocker doctor again"}
	case s.MountErr == "":
		res.Status = hostcheck.OK
		res.Detail = fmt.Sprintf("mounted overlay (%s) %s: lower files show, writes land in upper, whiteouts and opaque directories work", s.Options, where)
	case s.Rootless && !s.Kernel.AtLeast(5, 11):
		res.Detail = fmt.Sprintf("%s; overlay in a user namespace needs Linux 5.11 or later, this kernel is %s", s.MountErr, s.Kernel)
		res.Fix = []string{"# boot Linux 5.11 or later"}
	default:
		res.Detail = fmt.Sprintf("%s (mounted %s, kernel %s)", s.MountErr, where, s.Kernel)
		res.Fix = []string{"sudo dmesg | grep -i overlayfs | tail -n 5   # the kernel logs why it rejected the mount"}
	}
	return res
}
