package container

import (
	"errors"
	"fmt"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotFound means no container has the given id, id prefix or name.
	ErrNotFound = errors.New("no such container")
	// ErrNameInUse means another container has the requested name.
	ErrNameInUse = errors.New("container name already in use")
	// ErrRunning means the operation needs a stopped container.
	ErrRunning = errors.New("container is running")
	// ErrAmbiguous means an id prefix matches more than one container.
	ErrAmbiguous = errors.New("container id prefix is ambiguous")
	// ErrNotRunning means the operation needs a running container.
	ErrNotRunning = errors.New("container is not running")
)

// Exit statuses of Docker's contract for errors before the container's
// process runs.
const (
	ExitGockerError  = 125
	ExitCannotInvoke = 126
	ExitNotFound     = 127
	signalExitOffset = 128
)

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

func startErrorf(code int, format string, args ...any) *StartError {
	return &StartError{Code: code, Err: fmt.Errorf(format, args...)}
}
