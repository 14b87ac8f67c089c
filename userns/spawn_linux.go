package userns

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

var lastCap = sync.OnceValue(func() uintptr {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return uintptr(unix.CAP_CHECKPOINT_RESTORE)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return uintptr(unix.CAP_CHECKPOINT_RESTORE)
	}
	return uintptr(n)
})

// SysProcAttr returns process attributes that start a child in new
// namespaces given by cloneflags, adding CLONE_NEWUSER when the caller is
// not root.
//
// The child of CLONE_NEWUSER runs its execve before the parent has written
// the id maps, as an unmapped user, and execve would clear its capabilities.
// Raising every capability into the ambient set before the execve keeps
// them (capabilities(7), "Transformation of capabilities during execve"),
// so the re-executed child is root in its namespace as soon as the maps
// exist and needs no second execve. The child must wait for the parent's
// signal before it relies on its uid.
func SysProcAttr(cloneflags uintptr) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{
		Cloneflags: cloneflags,
		Pdeathsig:  syscall.SIGKILL,
	}
	if Rootless() {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		for c := uintptr(0); c <= lastCap(); c++ {
			attr.AmbientCaps = append(attr.AmbientCaps, c)
		}
	}
	return attr
}
