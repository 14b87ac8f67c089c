package container

import (
	"errors"

	"github.com/gocker/gocker/container/initproc"
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
	ExitGockerError  = initproc.ExitGockerError
	ExitCannotInvoke = initproc.ExitCannotInvoke
	ExitNotFound     = initproc.ExitNotFound
	signalExitOffset = initproc.SignalExitOffset
)

// StartError is a failure before the container's process ran, with the exit
// status Docker uses for it.
type StartError = initproc.StartError

func startErrorf(code int, format string, args ...any) *StartError {
	return initproc.StartErrorf(code, format, args...)
}
