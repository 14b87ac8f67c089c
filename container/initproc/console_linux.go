package initproc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// openConsole creates a pty in the container's own devpts instance, sends
// its master side to the parent over the sync socket and returns the
// terminal side, which becomes the process's stdio. A pty from the
// container's devpts shows up in the container as /dev/pts/N, as tty(1)
// and ssh-style tools expect.
func openConsole(root string, rows, cols uint16) (*os.File, error) {
	ptmx := filepath.Join(root, "dev/pts/ptmx")
	master, err := os.OpenFile(ptmx, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open pty master: %w", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return nil, os.NewSyscallError("unlock pty", err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		return nil, os.NewSyscallError("get pty number", err)
	}
	slavePath := filepath.Join(root, "dev/pts", strconv.FormatUint(uint64(n), 10))
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open pty terminal: %w", err)
	}
	// The size is set before the process starts, so that programs which
	// read it once (vi, less, top) see the user's terminal.
	if rows > 0 && cols > 0 {
		ws := &unix.Winsize{Row: rows, Col: cols}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return nil, os.NewSyscallError("set pty size", err)
		}
	}
	sendMessage(os.NewFile(SyncFD, "sync"), SyncMessage{Type: MsgPTY}, int(master.Fd()))
	return slave, nil
}

// attachConsole makes the pty the controlling terminal and stdio of the
// process, in a new session as a login shell would have it.
func attachConsole(console *os.File) error {
	if _, err := unix.Setsid(); err != nil {
		return os.NewSyscallError("setsid", err)
	}
	fd := int(console.Fd())
	if err := unix.IoctlSetInt(fd, unix.TIOCSCTTY, 0); err != nil {
		return os.NewSyscallError("set controlling terminal", err)
	}
	for target := 0; target <= 2; target++ {
		if err := unix.Dup3(fd, target, 0); err != nil {
			return os.NewSyscallError("dup3", err)
		}
	}
	return console.Close()
}
