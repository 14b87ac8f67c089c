package userns

import (
	"errors"
	"fmt"

	"github.com/gocker/gocker/hostcheck"
)

// MapToolState is the observed state of newuidmap or newgidmap.
type MapToolState struct {
	// Tool is "newuidmap" or "newgidmap".
	Tool string
	// Path is the tool's location on $PATH, empty when it is not installed.
	Path string
	// Setuid is true when the tool is setuid root; false with a nil Err
	// means it has file capabilities instead.
	Setuid bool
	// Err is the result of [CheckMapTool].
	Err error
}

// MapToolResult decides whether the tool can write id maps for the user.
// Root writes /proc/PID/uid_map itself, so for root the result is only
// informational.
func MapToolResult(s MapToolState, rootless bool) hostcheck.Result {
	res := hostcheck.Result{Check: s.Tool, Status: hostcheck.Fail}
	if !rootless {
		res.Status = hostcheck.Info
	}
	switch {
	case s.Err == nil:
		if rootless {
			res.Status = hostcheck.OK
		}
		res.Detail = s.Path + ", " + privilegeOf(s)
	case !rootless:
		res.Detail = "root writes id maps itself and does not need " + s.Tool
	case errors.Is(s.Err, ErrMapToolMissing):
		res.Detail = s.Tool + " not found in $PATH (package uidmap on Debian and Ubuntu, shadow-utils on Fedora)"
		res.Fix = []string{"sudo apt-get install uidmap"}
	case errors.Is(s.Err, ErrMapToolNotPrivileged):
		res.Detail = fmt.Sprintf("%s is neither setuid root nor has file capabilities, so it cannot write id maps (\"sudo setcap %s+ep %s\" works too)",
			s.Path, mapToolCapability(s.Tool), hostcheck.ShellQuote(s.Path))
		res.Fix = []string{"sudo chmod u+s " + hostcheck.ShellQuote(s.Path)}
	default:
		res.Detail = s.Err.Error()
	}
	return res
}

func privilegeOf(s MapToolState) string {
	if s.Setuid {
		return "setuid root"
	}
	return "file capabilities"
}

func mapToolCapability(tool string) string {
	if tool == "newgidmap" {
		return "cap_setgid"
	}
	return "cap_setuid"
}
