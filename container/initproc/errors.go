package initproc

import (
	"fmt"
	"syscall"
)

// Exit statuses of Docker's contract for errors before the container's
// process runs.
const (
	ExitGockerError  = 125
	ExitCannotInvoke = 126
	ExitNotFound     = 127
	// SignalExitOffset plus N is the status of a process killed by
	// signal N.
	SignalExitOffset = 128
)

// ExitStatus is the exit status of a process that ended with ws:
// SignalExitOffset+N when signal N killed it.
func ExitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return SignalExitOffset + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// StartError is a failure before the container's process ran, with the exit
// status Docker uses for it.
type StartError struct {
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// ExitCode returns the exit status gocker exits with.
func (e *StartError) ExitCode() int { return e.Code }

// StartErrorf returns a StartError with status code and a formatted error.
func StartErrorf(code int, format string, args ...any) *StartError {
	return &StartError{Code: code, Err: fmt.Errorf(format, args...)}
}
