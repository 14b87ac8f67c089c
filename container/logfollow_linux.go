package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// followPollInterval bounds how long followLog waits without an inotify
// event before it checks the container's state again.
const followPollInterval = 250 * time.Millisecond

// followLog prints what is appended to the log at path, reading on from
// f, and follows the log to the new file when the monitor rotates it. It
// returns once running reports the container stopped and the log is read
// to its end.
func followLog(ctx context.Context, path string, f *os.File, p *logPrinter, running func() bool) error {
	defer func() { f.Close() }()
	watch, err := newDirWatch(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer watch.close()
	for {
		// The state is read before the log, so that output written
		// before the container stopped is printed before returning.
		stopped := !running()
		// A rotated file gets no more records once it is renamed, so
		// reading it to its end after the check misses nothing.
		moved := rotated(path, f)
		if _, err := p.copyFrom(f); err != nil {
			return err
		}
		if moved {
			f.Close()
			if f, err = openAt(path, 0); err != nil {
				return err
			}
			p.partial = p.partial[:0]
			continue
		}
		if stopped {
			return nil
		}
		if err := watch.wait(ctx, followPollInterval); err != nil {
			return err
		}
	}
}

// rotated reports whether path now names another file than f.
func rotated(path string, f *os.File) bool {
	cur, err := os.Stat(path)
	if err != nil {
		return false
	}
	open, err := f.Stat()
	if err != nil {
		return true
	}
	a, okA := cur.Sys().(*syscall.Stat_t)
	b, okB := open.Sys().(*syscall.Stat_t)
	return okA && okB && (a.Ino != b.Ino || a.Dev != b.Dev)
}

// dirWatch wakes a follower when files in a directory change.
type dirWatch struct{ fd int }

func newDirWatch(dir string) (*dirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	mask := uint32(unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_DELETE_SELF)
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "inotify_add_watch", Path: dir, Err: err}
	}
	return &dirWatch{fd: fd}, nil
}

// wait returns after an event, after timeout, or with ctx's error.
func (w *dirWatch) wait(ctx context.Context, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	_, err := unix.Poll(fds, int(timeout.Milliseconds()))
	if err != nil && !errors.Is(err, unix.EINTR) {
		return os.NewSyscallError("poll", err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := unix.Read(w.fd, buf); err != nil {
			return nil // drained (EAGAIN)
		}
	}
}

func (w *dirWatch) close() { unix.Close(w.fd) }
