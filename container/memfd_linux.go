package container

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sealedExecutable returns a memfd that holds a copy of the binary at path
// (the running gocker, or the init binary), sealed against every change. A
// gocker process that a container can see is executed from such a copy:
// the process that gocker exec forks into the container, and the init of
// --init, which stays PID 1. Its /proc/PID/exe then leads to the sealed
// copy, never to the binary on disk (see the package documentation).
func sealedExecutable(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the gocker binary: %w", err)
	}
	defer src.Close()
	return sealedCopy(src, path)
}

// sealedCopy returns a sealed memfd that holds a copy of src, the binary
// named name in errors. It reads src from its start, whatever its offset.
func sealedCopy(src *os.File, name string) (*os.File, error) {
	// MFD_EXEC (Linux 6.3) keeps the memfd executable where the sysctl
	// vm.memfd_noexec makes memfds non-executable by default. Older
	// kernels reject the flag, and their memfds are executable anyway.
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate("gocker", flags|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate("gocker", flags)
	}
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:gocker")
	if err := copyFile(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy %s to a memfd: %w", name, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal the memfd copy of %s: %w", name, os.NewSyscallError("fcntl(F_ADD_SEALS)", err))
	}
	return f, nil
}

// copyFile copies src to dst with sendfile(2), which copies in the kernel:
// about a third faster than io.Copy, whose copy_file_range(2) does not
// work from another filesystem into a memfd.
func copyFile(dst, src *os.File) error {
	st, err := src.Stat()
	if err != nil {
		return err
	}
	var offset int64
	for left := st.Size(); left > 0; {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), &offset, int(min(left, 1<<30)))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("sendfile", err)
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		left -= int64(n)
	}
	return nil
}
