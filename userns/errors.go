package userns

import "errors"

// Errors returned when the host does not allow a mapped user namespace.
// Each is wrapped with the file, user and fix that apply.
var (
	// ErrNoSubIDs means /etc/subuid or /etc/subgid has no range for the user.
	ErrNoSubIDs = errors.New("no subordinate ids")
	// ErrRangeTooSmall means the ranges together cover fewer than
	// [MinSubIDs] ids.
	ErrRangeTooSmall = errors.New("subordinate id range too small")
	// ErrRangeOverlapsUser means a range contains the user's own id, which
	// would map one host id twice.
	ErrRangeOverlapsUser = errors.New("subordinate id range contains the user's own id")
	// ErrMapToolMissing means newuidmap or newgidmap is not installed.
	ErrMapToolMissing = errors.New("id map tool not installed")
	// ErrMapToolNotPrivileged means newuidmap or newgidmap has neither the
	// setuid bit nor file capabilities, so it cannot write the maps.
	ErrMapToolNotPrivileged = errors.New("id map tool is not setuid root and has no file capabilities")
)
