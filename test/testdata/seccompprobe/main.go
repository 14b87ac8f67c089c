// Command seccompprobe runs inside a container in the seccomp tests. It
// makes system calls that Docker's default seccomp profile blocks or
// restricts, through the x86_64, i386 (int $0x80) and x32 ABIs, and
// prints one line per call: its name and "ok" or the error's name, such
// as "keyctl EPERM".
package main

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// i386 system call numbers.
const (
	i386Getpid = 20
	i386Keyctl = 288
)

// x32 system calls are x86_64's numbers with this bit set.
const x32Bit = 0x40000000

// addrNoRandomize is the personality flag ADDR_NO_RANDOMIZE, which
// Docker's profile does not let a container set.
const addrNoRandomize = 0x0040000

func main() {
	report("keyctl", rawSyscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(0xfffffffd), 0)) // KEY_SPEC_SESSION_KEYRING
	report("add_key", rawSyscall(unix.SYS_ADD_KEY, 0, 0, 0))
	report("personality-query", rawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0))
	report("personality-addr-no-randomize", rawSyscall(unix.SYS_PERSONALITY, addrNoRandomize, 0, 0))
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err == nil {
		unix.Close(fd)
	}
	report("socket-inet", err)
	fd, err = unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.Close(fd)
	}
	report("socket-vsock", err)
	report("i386-getpid", int80(i386Getpid, 0, 0, 0))
	report("i386-keyctl", int80(i386Keyctl, 0, 0, 0))
	report("x32-keyctl", rawSyscall(x32Bit|unix.SYS_KEYCTL, 0, 0, 0))
}

func rawSyscall(nr, a1, a2, a3 uintptr) error {
	_, _, errno := syscall.RawSyscall(nr, a1, a2, a3)
	if errno != 0 {
		return errno
	}
	return nil
}

// int80 makes an i386 system call and returns the error of a negative
// result.
func int80(nr, a1, a2, a3 uintptr) error {
	r := int32(int80Raw(nr, a1, a2, a3))
	if r < 0 && r > -4096 {
		return syscall.Errno(-r)
	}
	return nil
}

func int80Raw(nr, a1, a2, a3 uintptr) uintptr

func report(name string, err error) {
	if err == nil {
		fmt.Println(name, "ok")
		return
	}
	if errno, ok := err.(syscall.Errno); ok {
		fmt.Println(name, unix.ErrnoName(errno))
		return
	}
	fmt.Println(name, err)
}
