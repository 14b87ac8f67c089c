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
	// RootControllers are the controllers root could limit a container
	// by on this host: the v1 hierarchies, or those of the v2 root cgroup.
	RootControllers []string
	// SystemdBooted is true when systemd is the init system.
	SystemdBooted bool
	// InitName is the name of PID 1 (/proc/1/comm), empty when unreadable.
	InitName string
	// GrubDefaults is true when /etc/default/grub exists, so that
	// update-grub rebuilds the kernel command line from it.
	GrubDefaults bool
	// BusPath is the user's D-Bus socket: $XDG_RUNTIME_DIR/bus, or
	// /run/user/UID/bus when only that exists.
	BusPath   string
	BusExists bool
	// BusAddress is $DBUS_SESSION_BUS_ADDRESS, which gocker uses instead
	// of BusPath when it is set.
	BusAddress string
	// CgroupsHidden is true when the caller sees no cgroup hierarchy in
	// a mount namespace other than PID 1's, which has cgroup mounts (see
	// [CgroupsHidden]). It is false for callers that cannot read
	// /proc/1/mountinfo, usually all but root.
	CgroupsHidden bool
	// NetnsName is the name in /run/netns of the caller's network
	// namespace, "" when no name there is bound to it.
	NetnsName string
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
	case ModeUnknown:
		res.Detail = "no cgroup hierarchy at /sys/fs/cgroup"
		if s.CgroupsHidden {
			res.Detail += " in this mount namespace, but PID 1's mount namespace has cgroup mounts"
		}
	}
	return res
}

// hiddenCgroupsReason and hiddenCgroupsFix explain a mount namespace
// without the host's cgroup mounts (State.CgroupsHidden).
const hiddenCgroupsReason = "this command's mount namespace has no cgroup mounts at /sys/fs/cgroup, but PID 1's has them " +
	"(\"ip netns exec\" makes such a namespace with a fresh /sys)"

func hiddenCgroupsFix(s State) []string {
	name := s.NetnsName
	if name == "" {
		name = "NAME"
	}
	return []string{
		fmt.Sprintf("# run gocker as nsenter --net=/run/netns/%s -- gocker ... instead of ip netns exec %s gocker ...", name, name),
		"# or mount the cgroup hierarchies that /proc/1/mountinfo lists in this mount namespace",
	}
}

func limitsResult(s State) hostcheck.Result {
	switch {
	case s.Mode == ModeUnknown && s.CgroupsHidden:
		return hostcheck.Result{
			Check: "cgroup-limits", Status: hostcheck.Warn,
			Detail: hiddenCgroupsReason + ", so resource limits cannot be enforced; containers without limits still run",
			Fix:    hiddenCgroupsFix(s),
		}
	case s.Mode == ModeUnknown:
		return hostcheck.Result{
			Check: "cgroup-limits", Status: hostcheck.Warn,
			Detail: "resource limits cannot be enforced without cgroups; containers without limits still run",
			Fix:    []string{"# mount cgroup2 at /sys/fs/cgroup (systemd does at boot; container runtimes do with --cgroupns=private)"},
		}
	case s.Rootless && (s.Mode != ModeUnified || !s.SystemdBooted):
		reason, fix := rootlessHostProblem(s, LimitControllers, allLimitFlags(), "containers that need limits", "them")
		return hostcheck.Result{
			Check: "cgroup-limits", Status: hostcheck.Warn,
			Detail: fmt.Sprintf("%s, so %s fail rootless; containers without limits still run", reason, joinAnd(allLimitFlags())),
			Fix:    fix,
		}
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

// rootlessHostProblem returns why the host gives an unprivileged user no
// resource limits at all, which is when it mounts cgroup v1 or does not
// run systemd, and returns the fixes that apply on this host. needed are
// the controllers and flags the limits need, so that running as root is
// offered only where root can enforce them. subject and pronoun name what
// the fixes run, such as "the container" and "it".
func rootlessHostProblem(s State, needed, flags []string, subject, pronoun string) (string, []string) {
	var reason string
	var fix []string
	switch {
	case !s.SystemdBooted && s.Mode != ModeUnified:
		reason = fmt.Sprintf("rootless resource limits need cgroup v2 and a systemd user manager, and this host has neither: it mounts cgroup v1 (%s mode) and %s", s.Mode, notSystemd(s))
	case !s.SystemdBooted:
		reason = "rootless resource limits need a systemd user manager, reached over the user's D-Bus, and this host runs none: " + notSystemd(s)
	default:
		reason = fmt.Sprintf("the host mounts cgroup v1 (%s mode), which gives an unprivileged user no cgroup; rootless resource limits need cgroup v2", s.Mode)
		fix = bootUnifiedFix(s)
	}
	alternative := "# run " + subject
	if len(fix) > 0 {
		alternative = "# or run " + subject
	}
	if len(MissingControllers(s.RootControllers, needed)) == 0 {
		fix = append(fix, alternative+" as root, which can enforce these limits on this host")
		alternative = "# or run " + pronoun
	}
	return reason, append(fix, alternative+" without "+joinAnd(flags))
}

// notSystemd returns the evidence that systemd is not the init system.
func notSystemd(s State) string {
	if s.InitName != "" && s.InitName != "systemd" {
		return fmt.Sprintf("PID 1 is %s, not systemd", s.InitName)
	}
	return "systemd is not the init system (/run/systemd/system is missing)"
}

// bootUnifiedFix returns the steps that boot a systemd host with cgroup
// v2. The grub commands are given only where /etc/default/grub exists,
// because other boot loaders keep the kernel command line elsewhere.
func bootUnifiedFix(s State) []string {
	if s.GrubDefaults {
		return []string{
			"# boot with cgroup v2: add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, then",
			"sudo update-grub && sudo reboot",
		}
	}
	return []string{"# boot with cgroup v2: add systemd.unified_cgroup_hierarchy=1 to the kernel command line in the boot loader's configuration, then reboot"}
}

// allLimitFlags returns the run flags of the controllers in
// LimitControllers.
func allLimitFlags() []string {
	var flags []string
	for _, c := range LimitControllers {
		flags = append(flags, limitFlags[c]...)
	}
	return flags
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

// userManagerResult reports the user's systemd manager, which rootless
// resource limits go through, and whether its bus can be found.
func userManagerResult(s State) hostcheck.Result {
	res := hostcheck.Result{Check: "systemd-user", Status: hostcheck.Warn}
	switch {
	case !s.Rootless:
		res.Status = hostcheck.Info
		res.Detail = "not needed: root manages cgroups without a user manager"
	case !s.SystemdBooted:
		res.Detail = fmt.Sprintf("needed for rootless resource limits, which are unavailable because this host runs no systemd user manager: %s; %s", notSystemd(s), busText(s))
		_, res.Fix = rootlessHostProblem(s, LimitControllers, allLimitFlags(), "containers that need limits", "them")
	case s.BusAddress != "" || s.BusExists:
		res.Status = hostcheck.OK
		res.Detail = "needed for rootless resource limits: " + busText(s)
		if s.Mode != ModeUnified {
			res.Detail += "; the limits also need cgroup v2 (see cgroup-limits)"
		}
	default:
		res.Detail = fmt.Sprintf("needed for rootless resource limits, but no user manager is reachable: %s, so no systemd user manager runs for %s or the session (su, sudo, cron) did not set $XDG_RUNTIME_DIR", busText(s), s.User)
		res.Fix = []string{
			"sudo loginctl enable-linger " + hostcheck.ShellQuote(s.User),
			fmt.Sprintf("export XDG_RUNTIME_DIR=/run/user/%d", s.UID),
		}
	}
	return res
}

// busText returns where gocker finds the user's D-Bus, or that it finds none.
func busText(s State) string {
	switch {
	case s.BusAddress != "":
		return "$DBUS_SESSION_BUS_ADDRESS is " + s.BusAddress
	case s.BusExists:
		return "user bus at " + s.BusPath
	}
	return fmt.Sprintf("no user bus at %s, and $DBUS_SESSION_BUS_ADDRESS is unset", s.BusPath)
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
