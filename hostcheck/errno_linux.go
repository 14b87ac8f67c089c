package hostcheck

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrnoText returns the errno inside err as "EACCES (permission denied)",
// the form users search for, or err's message when it carries no errno.
func ErrnoText(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	name := unix.ErrnoName(errno)
	if name == "" {
		return errno.Error()
	}
	return fmt.Sprintf("%s (%s)", name, errno.Error())
}

// ErrnoError returns the errno inside err as an error whose message is
// [ErrnoText] and which errors.Is still matches against the errno. It
// returns err unchanged when err carries no errno. Use it where the
// surrounding text already names the operation and the path.
func ErrnoError(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	return errnoError{errno}
}

type errnoError struct{ errno syscall.Errno }

func (e errnoError) Error() string { return ErrnoText(e.errno) }
func (e errnoError) Unwrap() error { return e.errno }
