package cgroupv2

import (
	"fmt"
	"path"
	"strings"

	"github.com/gocker/gocker/hostcheck"
)

// LimitControllers are the controllers behind gocker's resource limits.
var LimitControllers = []string{"cpu", "memory", "pids"}

// limitFlags names the run flags that need each controller.
var limitFlags = map[string][]string{
	"cpu":    {"--cpus", "--cpu-shares"},
	"memory": {"--memory"},
	"pids":   {"--pids-limit"},
}

// DelegateDropIn is the systemd drop-in that delegates the controllers
// gocker uses to every user's manager, user@UID.service.
const DelegateDropIn = "/etc/systemd/system/user@.service.d/delegate.conf"

// State is the input of [Results].
type State struct {
	Mode     Mode
	Rootless bool
	// User is the calling user's name, or the uid as a number when it has
	// no passwd entry.
	User string
	UID  int
	// OwnCgroup is the caller's cgroup: the v2 path on unified hosts, the
	// memory controller's v1 path otherwise.
	OwnCgroup string
	// Controllers are the controllers a container of the caller could be
	// limited by: delegated to the user's manager (rootless, v2), offered
	// by the root cgroup (root, v2) or mounted as v1 hierarchies.
	Controllers []string
	// ControllersFrom is the file that Controllers come from.
	ControllersFrom string
	// Delegated is true when the user may write the cgroup that
	// ControllersFrom belongs to.
	Delegated bool
	// ControllersErr is a failure to read ControllersFrom.
	ControllersErr error
	// SystemdBooted is true when systemd is the init system.
	SystemdBooted bool
	// BusPath is the user's D-Bus socket: $XDG_RUNTIME_DIR/bus, or
	// /run/user/UID/bus when only that exists.
	BusPath   string
	BusExists bool
}

// Results decides what the host's cgroups allow: a row for the mode and
// the caller's cgroup, one for resource limits, and one for the user's
// systemd manager, which rootless limits go through.
func Results(s State) []hostcheck.Result {
	return []hostcheck.Result{modeResult(s), limitsResult(s), userManagerResult(s)}
}

func modeResult(s State) hostcheck.Result {
	res := hostcheck.Result{Check: "cgroup", Status: hostcheck.Info}
	switch s.Mode {
	case ModeUnified:
		res.Detail = "cgroup v2 (unified); own cgroup " + s.OwnCgroup
	case ModeHybrid:
		res.Detail = "hybrid: cgroup v1 controllers, cgroup2 without controllers at /sys/fs/cgroup/unified; own cgroup (memory) " + s.OwnCgroup
	case ModeLegacy:
		res.Detail = "cgroup v1; own cgroup (memory) " + s.OwnCgroup
	default:
		res.Detail = "no cgroup hierarchy at /sys/fs/cgroup"
	}
	return res
}

func limitsResult(s State) hostcheck.Result {
	switch {
	case s.Mode == ModeUnknown:
		return hostcheck.Result{
			Check: "cgroup-limits", Status: hostcheck.Warn,
			Detail: "resource limits cannot be enforced without cgroups; containers without limits still run",
			Fix:    []string{"# mount cgroup2 at /sys/fs/cgroup (systemd does at boot; container runtimes do with --cgroupns=private)"},
		}
	case s.Rootless && s.Mode != ModeUnified:
		return v1RootlessResult()
	case s.Rootless && (s.ControllersErr != nil || !s.Delegated):
		return noDelegationResult(s)
	case s.ControllersErr != nil:
		return hostcheck.Result{
			Check: "cgroup-limits", Status: hostcheck.Warn,
			Detail: s.ControllersErr.Error() + "; containers without limits still run",
			Fix:    []string{"# resource limits are unavailable until the cgroup filesystem can be read"},
		}
	}
	missing := MissingControllers(s.Controllers, LimitControllers)
	if len(missing) == 0 {
		return hostcheck.Result{
			Check: "cgroup-limits", Status: hostcheck.OK,
			Detail: fmt.Sprintf("controllers %s (from %s)", strings.Join(s.Controllers, " "), s.ControllersFrom),
		}
	}
	return missingControllersResult(s, missing)
}

func v1RootlessResult() hostcheck.Result {
	return hostcheck.Result{
		Check:  "cgroup-limits",
		Status: hostcheck.Warn,
		Detail: "cgroup v1: an unprivileged user cannot be given cgroups, so --memory, --cpus, --cpu-shares and --pids-limit fail rootless; containers without limits still run, and root can enforce limits",
		Fix: []string{
			"# boot with cgroup v2: add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, then",
			"sudo update-grub && sudo reboot",
		},
	}
}

func noDelegationResult(s State) hostcheck.Result {
	res := hostcheck.Result{Check: "cgroup-limits", Status: hostcheck.Warn}
	if s.ControllersErr != nil {
		res.Detail = fmt.Sprintf("no cgroup is delegated to %s (%v), so resource limits fail rootless; containers without limits still run", s.User, s.ControllersErr)
	} else {
		res.Detail = fmt.Sprintf("no cgroup is delegated to %s (%s belongs to another user), so resource limits fail rootless; containers without limits still run", s.User, s.ControllersFrom)
	}
	res.Fix = []string{"sudo loginctl enable-linger " + hostcheck.ShellQuote(s.User)}
	return res
}

func missingControllersResult(s State, missing []string) hostcheck.Result {
	var flags []string
	for _, c := range missing {
		flags = append(flags, limitFlags[c]...)
	}
	res := hostcheck.Result{Check: "cgroup-limits", Status: hostcheck.Warn}
	res.Detail = fmt.Sprintf("controllers %s missing from %s (it offers %s), so %s fail; containers without limits still run",
		strings.Join(missing, " "), s.ControllersFrom, listOrNone(s.Controllers), joinAnd(flags))
	if !s.Rootless {
		res.Fix = []string{"# the kernel lacks the controller or a boot option (cgroup_disable=) turns it off"}
		return res
	}
	res.Fix = []string{
		"sudo mkdir -p " + path.Dir(DelegateDropIn),
		fmt.Sprintf(`printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo tee %s`, DelegateDropIn),
		"sudo systemctl daemon-reload",
		fmt.Sprintf("# then log out and in again, so that user@%d.service restarts with the delegation", s.UID),
	}
	return res
}

func userManagerResult(s State) hostcheck.Result {
	res := hostcheck.Result{Check: "systemd-user", Status: hostcheck.Warn}
	switch {
	case !s.Rootless:
		res.Status = hostcheck.Info
		res.Detail = "not needed: root manages cgroups without a user manager"
	case s.Mode != ModeUnified:
		res.Status = hostcheck.Info
		res.Detail = "not needed: cgroup v1 gives unprivileged users no limits to delegate"
	case !s.SystemdBooted:
		res.Detail = "systemd is not the init system (/run/systemd/system is missing), so no user manager can create delegated scopes for rootless limits"
		res.Fix = []string{"# run containers that need limits as root, or boot the host with systemd"}
	case s.BusExists:
		res.Status = hostcheck.OK
		res.Detail = "user bus at " + s.BusPath
	default:
		res.Detail = fmt.Sprintf("no user bus at %s: no systemd user manager runs for %s, or the session (su, sudo, cron) did not set $XDG_RUNTIME_DIR", s.BusPath, s.User)
		res.Fix = []string{
			"sudo loginctl enable-linger " + hostcheck.ShellQuote(s.User),
			fmt.Sprintf("export XDG_RUNTIME_DIR=/run/user/%d", s.UID),
		}
	}
	return res
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, " ")
}

// joinAnd joins items as English prose: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
