package initproc

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelSigaction is struct sigaction as rt_sigaction(2) takes it on
// Linux (not glibc's layout).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	sigDefault = 0 // SIG_DFL
	sigIgnore  = 1 // SIG_IGN
	lastSignal = 64
)

// resetIgnoredSignals gives the default action back to every signal that
// gocker inherited as ignored. execve(2) keeps ignored signals ignored, so a
// gocker started in the background of a non-interactive shell (which
// ignores SIGINT and SIGQUIT there) would otherwise hand the container a
// process that SIGINT cannot stop. Signals that gocker's runtime handles
// return to their defaults at execve by themselves.
func resetIgnoredSignals() error {
	for sig := 1; sig <= lastSignal; sig++ {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			continue
		}
		var old kernelSigaction
		if err := rtSigaction(sig, nil, &old); err != nil {
			continue // signal numbers the kernel reserves
		}
		if old.handler != sigIgnore {
			continue
		}
		act := kernelSigaction{handler: sigDefault}
		if err := rtSigaction(sig, &act, nil); err != nil {
			return os.NewSyscallError("rt_sigaction", err)
		}
	}
	return nil
}

func rtSigaction(sig int, act, old *kernelSigaction) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
