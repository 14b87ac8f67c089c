package initproc

import (
	"strings"

	"golang.org/x/sys/unix"
)

// mountError is a failed mount(2), with its arguments spelled out.
type mountError struct {
	op     string
	source string
	target string
	fstype string
	flags  uintptr
	data   string
	err    error
}

func (e *mountError) Error() string {
	var b strings.Builder
	b.WriteString(e.op)
	if e.source != "" {
		b.WriteString(" " + e.source)
	}
	if e.fstype != "" {
		b.WriteString(" (type " + e.fstype + ")")
	}
	b.WriteString(" on " + e.target)
	if f := flagNames(e.flags); f != "" {
		b.WriteString(" with flags " + f)
	}
	if e.data != "" {
		b.WriteString(" and options " + e.data)
	}
	b.WriteString(": " + e.err.Error())
	return b.String()
}

func (e *mountError) Unwrap() error { return e.err }

var mountFlagNames = []struct {
	flag uintptr
	name string
}{
	{unix.MS_RDONLY, "MS_RDONLY"},
	{unix.MS_NOSUID, "MS_NOSUID"},
	{unix.MS_NODEV, "MS_NODEV"},
	{unix.MS_NOEXEC, "MS_NOEXEC"},
	{unix.MS_REMOUNT, "MS_REMOUNT"},
	{unix.MS_BIND, "MS_BIND"},
	{unix.MS_REC, "MS_REC"},
	{unix.MS_PRIVATE, "MS_PRIVATE"},
	{unix.MS_SLAVE, "MS_SLAVE"},
	{unix.MS_STRICTATIME, "MS_STRICTATIME"},
}

func flagNames(flags uintptr) string {
	var names []string
	for _, f := range mountFlagNames {
		if flags&f.flag != 0 {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, "|")
}

func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return &mountError{op: "mount", source: source, target: target, fstype: fstype, flags: flags, data: data, err: err}
	}
	return nil
}

// makeReadOnly makes the mount at target read-only, recursively when
// recursive is set. mount_setattr(2) (Linux 5.12) adds the flag without
// having to repeat the flags that a user namespace locks on bind mounts of
// host paths (nosuid, nodev, noexec), which a MS_REMOUNT would have to.
func makeReadOnly(target string, recursive bool) error {
	flags := uint(unix.AT_SYMLINK_NOFOLLOW)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, target, flags, attr); err != nil {
		return &mountError{op: "make read-only", target: target, err: err}
	}
	return nil
}
