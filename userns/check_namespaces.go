package userns

import (
	"fmt"
	"strings"

	"github.com/gocker/gocker/hostcheck"
)

// NamespaceState is the input of [NamespaceResults]: the sysctls that allow
// or restrict user namespaces, and the outcome of creating one for real.
type NamespaceState struct {
	Rootless bool
	// MaxUserNamespaces is user.max_user_namespaces; 0 disables user
	// namespaces for every user, root included.
	MaxUserNamespaces hostcheck.Sysctl
	// UnprivilegedClone is kernel.unprivileged_userns_clone, which only
	// Debian's and Ubuntu's patched kernels have.
	UnprivilegedClone hostcheck.Sysctl
	// AppArmorRestrict is kernel.apparmor_restrict_unprivileged_userns
	// (Ubuntu 23.10 and later).
	AppArmorRestrict hostcheck.Sysctl
	// ProbeErr is the outcome of [ProbeUserNamespace]; nil means it worked.
	ProbeErr error
	// Executable is the real path of the running gocker binary, which an
	// AppArmor profile attaches to.
	Executable string
}

// MaxUserNamespacesFallback is the value the fix sets when
// user.max_user_namespaces is 0. Any positive value enables user
// namespaces, and the value caps how many each user may hold at once, so
// this one leaves room for thousands of containers.
const MaxUserNamespacesFallback = 28633

// AppArmorProfilePath is the file that the AppArmor profile for gocker is
// installed as.
const AppArmorProfilePath = "/etc/apparmor.d/gocker"

// NamespaceResults decides whether the calling user can create user
// namespaces. It returns one result per sysctl the kernel has and one for
// the probe, whose fix points at the sysctl that explains a failure.
func NamespaceResults(s NamespaceState) []hostcheck.Result {
	results := []hostcheck.Result{maxNamespacesResult(s)}
	if s.UnprivilegedClone.Present {
		results = append(results, unprivilegedCloneResult(s))
	}
	if s.AppArmorRestrict.Present {
		results = append(results, appArmorResult(s))
	}
	return append(results, probeResult(s, results))
}

// problemStatus is the status of a failed user namespace check. Failures
// are only warnings for root, which needs a user namespace only when a
// command requests one.
func problemStatus(rootless bool) hostcheck.Status {
	if rootless {
		return hostcheck.Fail
	}
	return hostcheck.Warn
}

func maxNamespacesResult(s NamespaceState) hostcheck.Result {
	v := s.MaxUserNamespaces
	res := hostcheck.Result{Check: "userns-max", Status: problemStatus(s.Rootless)}
	switch {
	case !v.Present:
		res.Detail = v.Name + " is missing: the kernel was built without user namespaces (CONFIG_USER_NS)"
		res.Fix = []string{"# boot a kernel built with CONFIG_USER_NS=y"}
	case v.Err != nil:
		res.Detail = v.Err.Error()
	case v.Value == 0:
		res.Detail = v.Name + " is 0, so user namespaces are disabled for every user"
		res.Fix = sysctlFix(v.Name, MaxUserNamespacesFallback, "/etc/sysctl.d/90-gocker-userns.conf")
	default:
		res.Status = hostcheck.OK
		res.Detail = fmt.Sprintf("%s = %d", v.Name, v.Value)
	}
	return res
}

func unprivilegedCloneResult(s NamespaceState) hostcheck.Result {
	v := s.UnprivilegedClone
	res := hostcheck.Result{Check: "userns-clone", Status: hostcheck.Fail}
	switch {
	case !s.Rootless:
		res.Status = hostcheck.Info
		res.Detail = fmt.Sprintf("%s = %d; it restricts only unprivileged users", v.Name, v.Value)
	case v.Err != nil:
		res.Detail = v.Err.Error()
	case v.Value == 0:
		res.Detail = v.Name + " is 0, so only root may create user namespaces"
		res.Fix = sysctlFix(v.Name, 1, "/etc/sysctl.d/90-gocker-userns-clone.conf")
	default:
		res.Status = hostcheck.OK
		res.Detail = fmt.Sprintf("%s = %d", v.Name, v.Value)
	}
	return res
}

// sysctlFix sets name to value now and in a file that systemd-sysctl and
// procps read at boot.
func sysctlFix(name string, value int64, file string) []string {
	setting := fmt.Sprintf("%s=%d", name, value)
	return []string{
		"sudo sysctl -w " + setting,
		fmt.Sprintf("echo %s | sudo tee %s", setting, file),
	}
}

func appArmorResult(s NamespaceState) hostcheck.Result {
	v := s.AppArmorRestrict
	res := hostcheck.Result{Check: "userns-apparmor", Status: hostcheck.OK}
	switch {
	case !s.Rootless:
		res.Status = hostcheck.Info
		res.Detail = fmt.Sprintf("%s = %d; it does not restrict root", v.Name, v.Value)
	case v.Err != nil:
		res.Status = hostcheck.Fail
		res.Detail = v.Err.Error()
	case v.Value == 0:
		res.Detail = v.Name + " = 0, so AppArmor does not restrict user namespaces"
	case s.ProbeErr == nil:
		res.Detail = v.Name + " = 1, and the probe created a user namespace, so a profile allows gocker to"
	default:
		res.Status = hostcheck.Fail
		res.Detail = fmt.Sprintf("%s = 1: an unprivileged program may create a user namespace only if an AppArmor profile grants it \"userns\", and none does for %s",
			v.Name, s.Executable)
		res.Fix = AppArmorFix(s.Executable)
	}
	return res
}

func probeResult(s NamespaceState, earlier []hostcheck.Result) hostcheck.Result {
	res := hostcheck.Result{Check: "userns-create", Status: hostcheck.OK}
	if s.ProbeErr == nil {
		res.Detail = "created a user namespace and set a hostname in it as uid 0"
		return res
	}
	res.Status = problemStatus(s.Rootless)
	res.Detail = "create a user namespace: " + s.ProbeErr.Error()
	for _, r := range earlier {
		if r.Status == hostcheck.Fail || r.Status == hostcheck.Warn {
			res.Fix = []string{"# apply the fix of the " + r.Check + " check above, then run gocker doctor again"}
			return res
		}
	}
	res.Fix = []string{
		"# no sysctl explains the failure; inside a container, a seccomp profile that blocks",
		"# CLONE_NEWUSER is the usual cause (Docker's default): run gocker on the host or in a container started with --security-opt seccomp=unconfined",
	}
	return res
}

// AppArmorProfile returns an AppArmor profile that lets the binary at exe
// create user namespaces and confines it no further, for hosts where
// kernel.apparmor_restrict_unprivileged_userns is 1. Local additions go
// to /etc/apparmor.d/local/gocker.
//
// NOTE: no test loads this profile with apparmor_parser, because the
// development hosts have no AppArmor; an Ubuntu 24.04 CI job should.
func AppArmorProfile(exe string) string {
	return strings.Join(appArmorProfileLines(exe), "\n") + "\n"
}

func appArmorProfileLines(exe string) []string {
	return []string{
		"abi <abi/4.0>,",
		"include <tunables/global>",
		"",
		"profile gocker " + appArmorPath(exe) + " flags=(unconfined) {",
		"  userns,",
		"",
		"  include if exists <local/gocker>",
		"}",
	}
}

// appArmorPath quotes a path that contains white space or a quote, as the
// AppArmor policy language requires.
func appArmorPath(path string) string {
	if strings.ContainsAny(path, " \t\"") {
		return `"` + strings.ReplaceAll(path, `"`, `\"`) + `"`
	}
	return path
}

// AppArmorFix returns the commands that install and load the profile of
// [AppArmorProfile]. The profile is written by one printf command, not a
// here-document, so that the command still works when it is pasted with
// the indentation of the doctor table.
func AppArmorFix(exe string) []string {
	lines := appArmorProfileLines(exe)
	quoted := make([]string, len(lines))
	for i, l := range lines {
		quoted[i] = hostcheck.ShellQuote(l)
	}
	return []string{
		fmt.Sprintf(`printf '%%s\n' %s | sudo tee %s >/dev/null`, strings.Join(quoted, " "), AppArmorProfilePath),
		"sudo apparmor_parser -r " + AppArmorProfilePath,
	}
}
