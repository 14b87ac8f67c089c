package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// processMatches reports whether pid is a live process (not a zombie)
// that started at startTime, so that a pid the kernel gave to another
// process since is not mistaken for the recorded one.
func processMatches(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	got, state, err := processStat(pid)
	return err == nil && state != 'Z' && (startTime == 0 || got == startTime)
}

// processHandle is a pidfd of a process whose start time was checked after
// the pidfd was opened, so it cannot refer to a recycled pid.
type processHandle struct {
	fd  int
	pid int
}

// errProcessGone means the recorded process has exited.
var errProcessGone = errors.New("process has exited")

// openProcess opens a pidfd of pid and checks that it is the process that
// started at startTime.
func openProcess(pid int, startTime uint64) (*processHandle, error) {
	if pid <= 0 {
		return nil, errProcessGone
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil, errProcessGone
	}
	if err != nil {
		return nil, os.NewSyscallError("pidfd_open", err)
	}
	unix.CloseOnExec(fd)
	if !processMatches(pid, startTime) {
		unix.Close(fd)
		return nil, errProcessGone
	}
	return &processHandle{fd: fd, pid: pid}, nil
}

func (h *processHandle) close() { unix.Close(h.fd) }

// signal sends sig to the process.
func (h *processHandle) signal(sig unix.Signal) error {
	err := unix.PidfdSendSignal(h.fd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return errProcessGone
	}
	if err != nil {
		return fmt.Errorf("send %v to process %d: %w", sig, h.pid, err)
	}
	return nil
}

// wait blocks until the process exits, or returns false when timeout (a
// negative one waits without limit) passes or ctx ends first.
func (h *processHandle) wait(ctx context.Context, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		step := 200 * time.Millisecond
		if timeout >= 0 {
			step = min(step, time.Until(deadline))
		}
		if step < 0 {
			step = 0
		}
		fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(step.Milliseconds()))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false, os.NewSyscallError("poll pidfd", err)
		}
		if n > 0 {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if timeout >= 0 && !time.Now().Before(deadline) {
			return false, nil
		}
	}
}
