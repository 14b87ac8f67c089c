package initproc

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SeccompFilter is a compiled seccomp filter: the type of
// github.com/gocker/gocker/seccomp's Filter, without the compiler, so that
// the init need not link it.
type SeccompFilter struct {
	// Program holds the BPF instructions as struct sock_filter in native
	// byte order, 8 bytes each.
	Program []byte `json:"program"`
	// Flags are the SECCOMP_FILTER_FLAG_* flags that the profile requests.
	Flags uint `json:"flags,omitempty"`
}

// sockFilterSize is the size of struct sock_filter.
const sockFilterSize = 8

// maxInstructions is BPF_MAXINSNS, the kernel's limit for one filter.
const maxInstructions = 4096

// Len returns the number of instructions.
func (f *SeccompFilter) Len() int { return len(f.Program) / sockFilterSize }

// Install attaches the filter to the calling thread, or with
// SECCOMP_FILTER_FLAG_TSYNC in extraFlags to every thread of the process.
// The thread must have no_new_privs set (or CAP_SYS_ADMIN). Threads and
// processes that the thread creates afterwards inherit the filter, and
// execve(2) keeps it.
func (f *SeccompFilter) Install(extraFlags uint) error {
	n := f.Len()
	if n == 0 || n > maxInstructions || len(f.Program)%sockFilterSize != 0 {
		return fmt.Errorf("invalid seccomp filter of %d bytes", len(f.Program))
	}
	insns := make([]unix.SockFilter, n)
	for i := range insns {
		b := f.Program[i*sockFilterSize:]
		insns[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		}
	}
	prog := unix.SockFprog{Len: uint16(n), Filter: &insns[0]}
	flags := f.Flags | extraFlags
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return os.NewSyscallError("seccomp(SECCOMP_SET_MODE_FILTER)", errno)
	}
	if r != 0 {
		// With TSYNC, a positive result is a thread that could not be
		// synchronized.
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER) with SECCOMP_FILTER_FLAG_TSYNC: thread %d has a filter of its own", r)
	}
	return nil
}
