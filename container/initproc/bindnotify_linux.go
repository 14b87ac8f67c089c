package initproc

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nativeAuditArch is the AUDIT_ARCH_* value of the architecture gocker
// was built for, and 0 where bind notification is not supported.
func nativeAuditArch() uint32 {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64
	}
	return 0
}

// bindNotifyProgram is a filter that returns SECCOMP_RET_USER_NOTIF for
// bind(2) of the native architecture and allows everything else. Other
// filters still apply: the kernel takes the strictest result of all.
// bind(2) through another ABI (x32, i386 socketcall) is not notified;
// such a socket stays in the container's network namespace.
func bindNotifyProgram(arch uint32) []unix.SockFilter {
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	// struct seccomp_data: nr at offset 0, arch at offset 4.
	return []unix.SockFilter{
		{Code: ldAbs, K: 4},
		{Code: jeq, K: arch, Jt: 0, Jf: 3},
		{Code: ldAbs, K: 0},
		{Code: jeq, K: unix.SYS_BIND, Jt: 0, Jf: 1},
		{Code: ret, K: unix.SECCOMP_RET_USER_NOTIF},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
	}
}

// sendBindListener installs the bind notification filter on the calling
// thread (or, with SECCOMP_FILTER_FLAG_TSYNC in extraFlags, on every
// thread) and sends its listener to the parent. The thread must have
// no_new_privs set.
func sendBindListener(extraFlags uint) error {
	arch := nativeAuditArch()
	if arch == 0 {
		return fmt.Errorf("port_handler=bypass is not supported on %s", runtime.GOARCH)
	}
	insns := bindNotifyProgram(arch)
	prog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	flags := uintptr(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | extraFlags)
	if extraFlags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
		// With a listener, TSYNC reports a thread it cannot synchronize
		// as ESRCH instead of the thread's id.
		flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return fmt.Errorf("install the bind notification filter (port_handler=bypass needs Linux 5.9 or later): %w", os.NewSyscallError("seccomp", errno))
	}
	fd := int(r)
	sendMessage(os.NewFile(SyncFD, "sync"), SyncMessage{Type: MsgBindListener}, fd)
	unix.Close(fd)
	return nil
}
