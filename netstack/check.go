package netstack

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/gocker/gocker/hostcheck"
)

// TunDevice is the device node through which slirp4netns and pasta give a
// rootless container its network interface.
const TunDevice = "/dev/net/tun"

// TunState is the observed state of [TunDevice].
type TunState struct {
	Rootless bool
	// User is the calling user's name, or the uid as a number when it has
	// no passwd entry.
	User   string
	Exists bool
	// Mode contains the type and permission bits of the node.
	Mode fs.FileMode
	// Owner and Group name the node's owner and group, as names where the
	// host has them.
	Owner, Group string
	// OpenErr is the outcome of opening the node read-write, which creates
	// no interface; nil means it worked.
	OpenErr error
	// Admin is the caller's access to root, which the fix lines use.
	Admin AdminAccess
}

// AdminAccess is the caller's access to root and the host's device
// manager, which decide the commands a fix line may use.
type AdminAccess struct {
	// Sudo is true when sudo is on $PATH and the caller is not root, so
	// a fix can start with "sudo".
	Sudo bool
	// Udev is true when udev manages /dev (/run/udev or
	// /etc/udev/rules.d exists), so a udev rule keeps a device's mode
	// across reboots.
	Udev bool
}

// NewAdminAccess decides [AdminAccess] from what the host has: sudo on
// $PATH, the caller's effective uid, and whether /run/udev and
// /etc/udev/rules.d exist.
func NewAdminAccess(sudoOnPath bool, euid int, runUdev, udevRules bool) AdminAccess {
	return AdminAccess{Sudo: sudoOnPath && euid != 0, Udev: runUdev || udevRules}
}

// AsRoot returns command as a line to run as root: prefixed with sudo
// where the caller has it, else as a comment that starts "as root:".
func (a AdminAccess) AsRoot(command string) string {
	if a.Sudo {
		return "sudo " + command
	}
	return "# as root: " + command
}

// TunModeFix returns the fix lines that let every user open
// [TunDevice]: chmod now, and a udev rule, or a note where no udev keeps
// the mode across reboots.
func TunModeFix(a AdminAccess) []string {
	fix := []string{a.AsRoot("chmod 0666 " + TunDevice)}
	rule := `echo 'KERNEL=="tun", MODE="0666"' > /etc/udev/rules.d/70-gocker-tun.rules`
	switch {
	case a.Udev && a.Sudo:
		fix = append(fix, `echo 'KERNEL=="tun", MODE="0666"' | sudo tee /etc/udev/rules.d/70-gocker-tun.rules`)
	case a.Udev:
		fix = append(fix, "# as root: "+rule)
	default:
		fix = append(fix, "# this host runs no udev, so the mode resets at reboot: set it in the boot scripts")
	}
	return fix
}

// TunResult decides whether the caller can open /dev/net/tun. slirp4netns
// and pasta open it as the calling user, so an unprivileged user needs
// read and write permission on the node itself: being root in a user
// namespace does not help, because the node's owner is not mapped there.
func TunResult(s TunState) hostcheck.Result {
	res := hostcheck.Result{Check: "tun", Status: hostcheck.Fail}
	if !s.Rootless {
		res.Status = hostcheck.Warn
	}
	node := fmt.Sprintf("%s is %s %s:%s", TunDevice, lsMode(s.Mode), s.Owner, s.Group)
	switch {
	case !s.Exists:
		res.Detail = TunDevice + " does not exist"
		res.Fix = []string{s.Admin.AsRoot("modprobe tun"), "# inside a container, start it with --device /dev/net/tun"}
	case s.Mode&fs.ModeCharDevice == 0:
		res.Detail = node + ", not a character device"
		res.Fix = []string{"# remove it and load the tun module", s.Admin.AsRoot("rm " + TunDevice), s.Admin.AsRoot("modprobe tun")}
	case s.OpenErr == nil:
		res.Status = hostcheck.OK
		res.Detail = node + ", opened read-write"
	case errors.Is(s.OpenErr, syscall.EACCES) && s.Mode.Perm()&0o006 != 0o006:
		res.Detail = fmt.Sprintf("%s, and opening it as %s failed with %v, so slirp4netns and pasta cannot give containers a network", node, s.User, s.OpenErr)
		res.Fix = TunModeFix(s.Admin)
	default:
		res.Detail = fmt.Sprintf("%s, but opening it failed with %v, so a device cgroup or security module denies it", node, s.OpenErr)
		res.Fix = []string{"# inside a container, start it with --device /dev/net/tun"}
	}
	return res
}

// lsMode formats a device node's mode as ls -l does, such as "crw-rw-rw-".
func lsMode(mode fs.FileMode) string {
	perm := []byte(mode.Perm().String())
	switch {
	case mode&fs.ModeCharDevice != 0:
		perm[0] = 'c'
	case mode&fs.ModeDevice != 0:
		perm[0] = 'b'
	case mode.IsDir():
		perm[0] = 'd'
	}
	return string(perm)
}

// ToolState is the observed state of a user-mode networking tool.
type ToolState struct {
	Name string
	// Package is the Debian and Ubuntu package that installs the tool.
	Package string
	// Path is the tool's location on $PATH, empty when it is not installed.
	Path string
	// Version is the first line of "NAME --version".
	Version    string
	VersionErr error
	// DebianPackage is "PACKAGE VERSION" of the Debian package that
	// installed Path, as dpkg-query reports it, or "" when dpkg has no
	// such package.
	DebianPackage string
}

// versionText returns the tool's version as --version prints it or, when
// that names no version, as the Debian package that installed the tool
// records it. Debian's passt 0.0~git20230309.7c7625d-1 builds pasta
// without a version string, so "pasta --version" prints "pasta unknown
// version".
func (t ToolState) versionText() string {
	if t.DebianPackage == "" || !lacksVersion(t.Version) {
		return t.Version
	}
	return fmt.Sprintf("Debian package %s (%s --version prints %q)", t.DebianPackage, t.Name, t.Version)
}

// lacksVersion reports whether the first line of --version names no
// version.
func lacksVersion(line string) bool {
	return line == "" || strings.Contains(line, "unknown version")
}

// ParseDpkgSearch returns the package of the first "PACKAGE: PATH" line
// of "dpkg-query -S PATH", skipping diversion lines, or "" when there is
// none.
func ParseDpkgSearch(output string) string {
	for line := range strings.Lines(output) {
		pkgs, path, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasPrefix(path, "/") || strings.HasPrefix(line, "diversion ") {
			continue
		}
		// A file shipped by several packages lists them as "a, b".
		first, _, _ := strings.Cut(pkgs, ", ")
		if first != "" && !strings.ContainsAny(first, " \t") {
			return first
		}
	}
	return ""
}

// ToolResults decides whether rootless networking has a tool: one of
// slirp4netns and pasta is enough. Root needs neither for bridge, host and
// none networking, so a missing tool is only a warning for root.
func ToolResults(tools []ToolState, rootless bool) []hostcheck.Result {
	var found []string
	var packages []string
	for _, t := range tools {
		packages = append(packages, t.Package)
		if t.Path != "" {
			found = append(found, t.Name)
		}
	}
	results := make([]hostcheck.Result, len(tools))
	for i, t := range tools {
		results[i] = toolResult(t, found, packages, rootless)
	}
	return results
}

func toolResult(t ToolState, found, packages []string, rootless bool) hostcheck.Result {
	res := hostcheck.Result{Check: t.Name, Status: hostcheck.OK}
	switch {
	case t.Path != "" && t.VersionErr != nil:
		res.Status = hostcheck.Warn
		res.Detail = fmt.Sprintf("%s --version failed: %v", t.Path, t.VersionErr)
		res.Fix = []string{"sudo apt-get install --reinstall " + t.Package}
	case t.Path != "":
		res.Detail = t.Path + ", " + t.versionText()
	case len(found) > 0:
		res.Status = hostcheck.Info
		res.Detail = fmt.Sprintf("not installed; %s is enough", strings.Join(found, " and "))
	default:
		res.Status = hostcheck.Fail
		if !rootless {
			res.Status = hostcheck.Warn
		}
		res.Detail = "not installed, and rootless networking needs slirp4netns or pasta (--network host and --network none need neither)"
		res.Fix = []string{"sudo apt-get install " + strings.Join(packages, " ")}
	}
	return res
}

// FirstLine returns the first non-empty line of a tool's output, trimmed.
func FirstLine(output string) string {
	for line := range strings.Lines(output) {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// PortsResult reports which host ports the caller can publish, from
// net.ipv4.ip_unprivileged_port_start of the host's network namespace:
// rootless published ports are bound there by the calling user.
func PortsResult(v hostcheck.Sysctl, rootless bool, user string) hostcheck.Result {
	res := hostcheck.Result{Check: "unprivileged-ports", Status: hostcheck.Info}
	switch {
	case v.Err != nil:
		res.Detail = v.Err.Error()
	case !v.Present:
		res.Detail = "the kernel has no " + v.Name + " (added in Linux 4.11), so only root can publish host ports below 1024"
	case !rootless:
		res.Detail = fmt.Sprintf("root can publish any host port; unprivileged users can publish %d and above (%s)", v.Value, v.Name)
	case v.Value == 0:
		res.Detail = fmt.Sprintf("%s can publish any host port (%s = 0)", user, v.Name)
	default:
		res.Detail = fmt.Sprintf("%s can publish host ports %d and above; lower ports need root or a lower %s", user, v.Value, v.Name)
	}
	return res
}

// SocketFilterResult reports whether the caller may lock a socket filter
// on a socket of the host's network namespace, which
// port_handler=bypass needs unless allow_host_loopback=true is given.
// err is the outcome of attaching one, nil when it worked.
func SocketFilterResult(err error, rootless bool) hostcheck.Result {
	res := hostcheck.Result{Check: "socket-filter", Status: hostcheck.Info}
	switch {
	case err == nil:
		res.Detail = "allowed: --network slirp4netns:port_handler=bypass (and pasta) keeps the host's loopback out of reach"
	case errors.Is(err, errFilterRejected) && rootless:
		res.Detail = "the kernel rejects socket filters for users here, so --network ...:port_handler=bypass works only with allow_host_loopback=true, which lets containers reach the host's loopback; the default port handler is not affected"
	default:
		res.Detail = fmt.Sprintf("attaching a socket filter failed: %v; --network ...:port_handler=bypass needs one unless allow_host_loopback=true is given", err)
	}
	return res
}

// NsenterResult decides whether nsenter (util-linux) is on $PATH at path
// ("" when it is not): rootless "gocker exec" joins a container's user
// namespace with it, and the port driver of rootless published ports runs
// in the container's network namespace through it. Root needs it for
// neither.
func NsenterResult(path string, rootless bool) hostcheck.Result {
	res := hostcheck.Result{Check: "nsenter", Status: hostcheck.OK}
	switch {
	case path != "":
		res.Detail = path
	case rootless:
		res.Status = hostcheck.Warn
		res.Detail = "not found in $PATH, so rootless gocker exec and published ports (-p) fail; gocker run without -p still works"
		res.Fix = []string{"sudo apt-get install util-linux"}
	default:
		res.Status = hostcheck.Info
		res.Detail = "not found in $PATH; only rootless gocker exec and published ports need it"
	}
	return res
}

// NftablesState is the outcome of listing the nftables tables of the
// caller's network namespace, which only reads.
type NftablesState struct {
	Rootless bool
	Tables   int
	Err      error
}

// NftablesResult decides whether root's bridge network can have its NAT
// rules: it needs nf_tables in the kernel. Users' networks do not use it.
func NftablesResult(s NftablesState) hostcheck.Result {
	res := hostcheck.Result{Check: "nftables", Status: hostcheck.OK}
	switch {
	case s.Rootless:
		res.Status = hostcheck.Info
		res.Detail = "not needed: only root's bridge network uses nf_tables"
	case s.Err == nil:
		res.Detail = fmt.Sprintf("nf_tables listed %d tables in this network namespace", s.Tables)
	default:
		res.Status = hostcheck.Warn
		res.Detail = fmt.Sprintf("listing nftables tables failed: %v, so root's default bridge network cannot start; --network host and --network none still work", s.Err)
		res.Fix = []string{
			"sudo modprobe nf_tables",
			"# if modprobe finds no module, the kernel lacks CONFIG_NF_TABLES: boot a kernel built with it",
		}
	}
	return res
}
