package cgroupv2

import (
	"fmt"
	"strings"
)

// UnsupportedError is a resource limit that the host cannot enforce for
// the calling user, with the fix.
type UnsupportedError struct {
	// Flags are the run flags that cannot be enforced, such as "--memory".
	Flags string
	// Reason says why, naming the controller.
	Reason string
	// Fix contains the shell commands that fix it, as [hostcheck.Result]
	// has them.
	Fix []string
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("cannot enforce %s: %s", e.Flags, e.Reason)
	if len(e.Fix) > 0 {
		msg += "; to fix it:\n  " + strings.Join(e.Fix, "\n  ")
	}
	return msg
}

// CheckSupport returns an *UnsupportedError when the host described by s
// cannot enforce r for the caller, before anything is created. The
// reasons and fixes are those "gocker doctor" prints.
func CheckSupport(s State, r Resources) error {
	if !r.Limited() {
		return nil
	}
	all := joinAnd(r.flags())
	switch {
	case s.Mode == ModeUnknown && s.CgroupsHidden:
		return &UnsupportedError{Flags: all, Reason: hiddenCgroupsReason, Fix: hiddenCgroupsFix(s)}
	case s.Mode == ModeUnknown:
		res := limitsResult(s)
		return &UnsupportedError{Flags: all, Reason: "no cgroup hierarchy is mounted at " + Root, Fix: res.Fix}
	case s.Rootless && (s.Mode != ModeUnified || !s.SystemdBooted):
		reason, fix := rootlessHostProblem(s, r.Controllers(), r.flags(), "the container", "it")
		return &UnsupportedError{Flags: all, Reason: reason, Fix: fix}
	case s.Rootless && s.BusAddress == "" && !s.BusExists:
		return &UnsupportedError{Flags: all, Reason: fmt.Sprintf("no user D-Bus at %s to ask the systemd user manager of %s for a cgroup", s.BusPath, s.User), Fix: userManagerResult(s).Fix}
	case s.ControllersErr != nil:
		res := limitsResult(s)
		return &UnsupportedError{Flags: all, Reason: s.ControllersErr.Error(), Fix: res.Fix}
	case s.Rootless && !s.Delegated:
		return &UnsupportedError{Flags: all, Reason: noDelegationResult(s).Detail, Fix: noDelegationResult(s).Fix}
	}
	missing := MissingControllers(s.Controllers, r.Controllers())
	if len(missing) == 0 {
		return nil
	}
	return missingError(s, r, missing)
}

// missingError names the first missing controller and the flags that need
// it.
func missingError(s State, r Resources, missing []string) error {
	c := missing[0]
	res := missingControllersResult(s, missing)
	reason := fmt.Sprintf("the %s controller is missing from %s (it offers %s)", c, s.ControllersFrom, listOrNone(s.Controllers))
	if s.Rootless {
		reason = fmt.Sprintf("the %s controller is not delegated to %s (%s offers %s)", c, s.User, s.ControllersFrom, listOrNone(s.Controllers))
	}
	return &UnsupportedError{Flags: joinAnd(r.flagsFor(c)), Reason: reason, Fix: res.Fix}
}

// flags returns the run flags that r sets.
func (r Resources) flags() []string {
	var flags []string
	for _, c := range r.Controllers() {
		flags = append(flags, r.flagsFor(c)...)
	}
	return flags
}
