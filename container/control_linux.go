package container

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gocker/gocker/internal/lockfile"
	"golang.org/x/sys/unix"
)

// DefaultStopTimeout is how long gocker stop waits after the stop signal
// before it sends SIGKILL, as in Docker.
const DefaultStopTimeout = 10 * time.Second

// settleTimeout bounds how long a command waits for the monitor to record
// an exit it has seen happen.
const settleTimeout = 30 * time.Second

// Stop stops container c: it sends the container's stop signal to its
// process, waits up to timeout for it to exit, then sends SIGKILL, and
// returns once the exit is recorded. A stop ends the restart policy until
// the next start. A container that does not run is left as it is.
func (s *Store) Stop(ctx context.Context, c *Container, timeout time.Duration) error {
	if c.State.Status != StatusRunning && c.State.Status != StatusRestarting {
		return nil
	}
	if err := s.requestStop(c); err != nil {
		return fmt.Errorf("stop container %s: %w", c.Name, err)
	}
	if c.State.Status == StatusRunning {
		if err := stopProcess(ctx, c, timeout); err != nil {
			return fmt.Errorf("stop container %s: %w", c.Name, err)
		}
	}
	return s.waitSettled(ctx, c)
}

// StopForRestart stops c as Stop does, for gocker restart: the monitor of a
// container run with --rm keeps it, so that it can start again.
func (s *Store) StopForRestart(ctx context.Context, c *Container, timeout time.Duration) error {
	if c.HostConfig.AutoRemove && (c.State.Status == StatusRunning || c.State.Status == StatusRestarting) {
		if err := os.WriteFile(s.restartRequestPath(c.ID), nil, 0o600); err != nil {
			return fmt.Errorf("restart container %s: %w", c.Name, err)
		}
	}
	return s.Stop(ctx, c, timeout)
}

// stopProcess sends the stop signal, then SIGKILL after timeout, and waits
// for the process to exit.
func stopProcess(ctx context.Context, c *Container, timeout time.Duration) error {
	h, err := openProcess(c.State.Pid, c.State.PidStartTime)
	if errors.Is(err, errProcessGone) {
		return nil
	}
	if err != nil {
		return err
	}
	defer h.close()
	if err := h.signal(c.StopSignal()); err != nil {
		return ignoreGone(err)
	}
	exited, err := h.wait(ctx, timeout)
	if err != nil || exited {
		return err
	}
	if err := h.signal(unix.SIGKILL); err != nil {
		return ignoreGone(err)
	}
	exited, err = h.wait(ctx, settleTimeout)
	if err == nil && !exited {
		err = fmt.Errorf("process %d did not exit within %v of SIGKILL", h.pid, settleTimeout)
	}
	return err
}

func ignoreGone(err error) error {
	if errors.Is(err, errProcessGone) {
		return nil
	}
	return err
}

// waitSettled waits until the monitor recorded that c no longer runs and
// exited, or c was removed with --rm. It wakes a monitor that waits to
// restart c, so that the monitor finds the stop request.
func (s *Store) waitSettled(ctx context.Context, c *Container) error {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	delay := time.Millisecond
	for {
		cur, err := s.load(c.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		switch cur.State.Status {
		case StatusRunning:
		case StatusRestarting:
			s.wakeMonitor(cur)
		default:
			// The monitor cleans up after recording the exit; a start
			// right after the stop needs it gone.
			c.State = cur.State
			if !lockfile.Held(s.lockPath(c.ID)) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for container %s to stop: %w", c.Name, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// wakeMonitor signals the monitor of c, which checks for a stop request
// when it receives SIGTERM while it waits to restart the container.
func (s *Store) wakeMonitor(c *Container) {
	h, err := openProcess(c.State.MonitorPid, c.State.MonitorStartTime)
	if err != nil {
		return
	}
	defer h.close()
	_ = h.signal(unix.SIGTERM)
}

// fatalSignals end a container's restart policy when gocker kill sends
// them, with the container's stop signal: they are how a process is told
// to terminate, while signals such as SIGHUP and SIGUSR1 ask a running
// service to do something.
var fatalSignals = map[unix.Signal]bool{
	unix.SIGKILL: true, unix.SIGTERM: true, unix.SIGINT: true,
	unix.SIGQUIT: true, unix.SIGABRT: true,
}

// Kill sends sig to the process of the running container c.
func (s *Store) Kill(ctx context.Context, c *Container, sig unix.Signal) error {
	switch c.State.Status {
	case StatusRunning:
	case StatusRestarting:
		return fmt.Errorf("kill container %s: it is restarting: wait until it runs, or stop it", c.Name)
	default:
		return fmt.Errorf("kill container %s: %w", c.Name, ErrNotRunning)
	}
	h, err := openProcess(c.State.Pid, c.State.PidStartTime)
	if errors.Is(err, errProcessGone) {
		return fmt.Errorf("kill container %s: %w", c.Name, ErrNotRunning)
	}
	if err != nil {
		return err
	}
	defer h.close()
	if fatalSignals[sig] || sig == c.StopSignal() {
		if err := s.requestStop(c); err != nil {
			return err
		}
	}
	if err := h.signal(sig); err != nil {
		if errors.Is(err, errProcessGone) {
			return fmt.Errorf("kill container %s: %w", c.Name, ErrNotRunning)
		}
		return err
	}
	return nil
}

// Wait blocks until container c, if it runs, exits, and returns the exit
// status of its last run.
func (s *Store) Wait(ctx context.Context, c *Container) (int, error) {
	if c.State.Status != StatusRunning {
		return c.State.ExitCode, nil
	}
	started := c.State.StartedAt
	h, err := openProcess(c.State.Pid, c.State.PidStartTime)
	if err == nil {
		_, err = h.wait(ctx, -1)
		h.close()
		if err != nil {
			return -1, err
		}
	}
	// The process has exited; the monitor records the status.
	delay := time.Millisecond
	for {
		cur, err := s.load(c.ID)
		if errors.Is(err, ErrNotFound) {
			// Removed with --rm after its exit, which keeps the
			// status for a while.
			if code, ok := s.removedExitCode(c.ID); ok {
				return code, nil
			}
			return c.State.ExitCode, nil
		}
		if err != nil {
			return -1, err
		}
		if cur.State.Status != StatusRunning || !cur.State.StartedAt.Equal(started) {
			return cur.State.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// ForceRemove removes container c, killing it first when it runs.
func (s *Store) ForceRemove(ctx context.Context, c *Container) error {
	if c.State.Status == StatusRunning || c.State.Status == StatusRestarting {
		if err := s.requestStop(c); err != nil {
			return fmt.Errorf("remove container %s: %w", c.Name, err)
		}
		if c.State.Status == StatusRunning {
			if h, err := openProcess(c.State.Pid, c.State.PidStartTime); err == nil {
				_ = h.signal(unix.SIGKILL)
				_, _ = h.wait(ctx, settleTimeout)
				h.close()
			}
		}
		if err := s.waitSettled(ctx, c); err != nil {
			return err
		}
	}
	// The monitor may still be tearing down the container (hooks'
	// cleanups) after recording the exit: wait for it to let go.
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	lock, err := s.Lock(ctx, c)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed by its monitor (--rm)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("remove container %s: its monitor did not exit within %v", c.Name, settleTimeout)
		}
		return err
	}
	if !exists(s.Dir(c.ID)) {
		lock.Unlock()
		return nil // removed by its monitor (--rm)
	}
	return s.removeLocked(ctx, c, lock)
}
