package netstack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gocker/gocker/hostcheck"
	"github.com/gocker/gocker/userns"
	"github.com/google/nftables"
	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// versionTimeout bounds "TOOL --version", which only prints and exits.
const versionTimeout = 5 * time.Second

// CheckHost runs the network checks for the calling user. It opens
// /dev/net/tun without creating an interface, runs "--version" of the
// user-mode networking tools, and sends no traffic.
func CheckHost(ctx context.Context) []hostcheck.Result {
	rootless := userns.Rootless()
	name := userName()
	results := []hostcheck.Result{TunResult(inspectTun(rootless, name))}
	tools := []ToolState{
		inspectTool(ctx, "slirp4netns", "slirp4netns"),
		inspectTool(ctx, "pasta", "passt"),
	}
	results = append(results, ToolResults(tools, rootless)...)
	nsenter, _ := exec.LookPath("nsenter")
	results = append(results, NsenterResult(nsenter, rootless), NftablesResult(inspectNftables(rootless)))
	ports := hostcheck.ReadSysctl("net.ipv4.ip_unprivileged_port_start")
	results = append(results, PortsResult(ports, rootless, name))
	return append(results, SocketFilterResult(trySocketFilter(), rootless))
}

// trySocketFilter attaches the bypass port handler's socket filter to a
// TCP socket that it closes unbound.
func trySocketFilter() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	return attachSynAckFilter(fd)
}

// inspectNftables lists the nftables tables of the caller's network
// namespace over netlink, which creates nothing. The kernel may load the
// nf_tables module to reply, as it does for the bridge network's first
// container. Users cannot list them (nfnetlink requires CAP_NET_ADMIN), so
// they are not asked.
func inspectNftables(rootless bool) NftablesState {
	s := NftablesState{Rootless: rootless}
	if rootless {
		return s
	}
	conn, err := nftables.New()
	if err != nil {
		s.Err = hostcheck.ErrnoError(err)
		return s
	}
	tables, err := conn.ListTables()
	if err != nil {
		s.Err = hostcheck.ErrnoError(err)
		return s
	}
	s.Tables = len(tables)
	return s
}

func userName() string {
	id := userns.CurrentIdentity()
	if id.Name == "" {
		return strconv.Itoa(id.UID)
	}
	return id.Name
}

// HostAdminAccess looks up whether the caller has sudo and whether the
// host runs udev, for the fixes of the host checks.
func HostAdminAccess() AdminAccess {
	_, err := exec.LookPath("sudo")
	return NewAdminAccess(err == nil, os.Geteuid(), exists("/run/udev"), exists("/etc/udev/rules.d"))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func inspectTun(rootless bool, name string) TunState {
	s := TunState{Rootless: rootless, User: name, Admin: HostAdminAccess()}
	fi, err := os.Stat(TunDevice)
	if errors.Is(err, fs.ErrNotExist) {
		return s
	}
	s.Exists = true
	if err != nil {
		s.OpenErr = err
		return s
	}
	s.Mode = fi.Mode()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Owner, s.Group = ownerNames(int(st.Uid), int(st.Gid))
	}
	f, err := os.OpenFile(TunDevice, os.O_RDWR, 0)
	if err != nil {
		s.OpenErr = hostcheck.ErrnoError(err)
		return s
	}
	f.Close()
	return s
}

func ownerNames(uid, gid int) (string, string) {
	owner, group := strconv.Itoa(uid), strconv.Itoa(gid)
	if u, err := user.LookupUid(uid); err == nil {
		owner = u.Name
	}
	if g, err := user.LookupGid(gid); err == nil {
		group = g.Name
	}
	return owner, group
}

func inspectTool(ctx context.Context, name, pkg string) ToolState {
	s := ToolState{Name: name, Package: pkg}
	path, err := exec.LookPath(name)
	if err != nil {
		return s
	}
	s.Path = path
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		s.VersionErr = fmt.Errorf("%w: %s", err, FirstLine(string(out)))
		return s
	}
	s.Version = FirstLine(string(out))
	if lacksVersion(s.Version) {
		s.DebianPackage = debianPackage(ctx, path)
	}
	return s
}

// debianPackage returns "PACKAGE VERSION" of the Debian package that
// installed path, or "" where dpkg-query is missing or no package did.
func debianPackage(ctx context.Context, path string) string {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	out, err := exec.CommandContext(ctx, "dpkg-query", "-S", path).Output()
	if err != nil {
		return ""
	}
	pkg := ParseDpkgSearch(string(out))
	if pkg == "" {
		return ""
	}
	version, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil || len(version) == 0 {
		return ""
	}
	return pkg + " " + strings.TrimSpace(string(version))
}
