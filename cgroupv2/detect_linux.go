package cgroupv2

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gocker/gocker/hostcheck"
	"github.com/gocker/gocker/userns"
	"golang.org/x/sys/unix"
)

// Root is the mount point of the host's cgroup filesystems.
const Root = "/sys/fs/cgroup"

// DetectMode returns how the host mounts cgroups, from the filesystem
// types of /sys/fs/cgroup and /sys/fs/cgroup/unified.
func DetectMode() (Mode, error) {
	var root, unified unix.Statfs_t
	if err := unix.Statfs(Root, &root); err != nil {
		return ModeUnknown, &os.PathError{Op: "statfs", Path: Root, Err: err}
	}
	var unifiedMagic int64
	if unix.Statfs(Root+"/unified", &unified) == nil {
		unifiedMagic = int64(unified.Type)
	}
	return ModeFromMagic(int64(root.Type), unifiedMagic), nil
}

// ReadProcCgroup reads the cgroups of the calling process.
func ReadProcCgroup() ([]ProcCgroupEntry, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := ParseProcCgroup(f)
	if err != nil {
		return nil, fmt.Errorf("parse /proc/self/cgroup: %w", err)
	}
	return entries, nil
}

// CheckHost runs the cgroup checks for the calling user. It only reads.
func CheckHost() []hostcheck.Result {
	return Results(readState())
}

func readState() State {
	// An unreadable /sys/fs/cgroup leaves ModeUnknown, which the results
	// report as "no cgroup hierarchy".
	mode, _ := DetectMode()
	id := userns.CurrentIdentity()
	s := State{Mode: mode, Rootless: userns.Rootless(), User: id.Name, UID: id.UID}
	if mode == ModeUnknown {
		readHiddenCgroups(&s)
	}
	if s.User == "" {
		s.User = strconv.Itoa(id.UID)
	}
	entries, err := ReadProcCgroup()
	if err != nil {
		s.ControllersErr = err
	}
	s.OwnCgroup = ownCgroup(mode, entries)
	if err == nil {
		readControllers(&s, entries)
	}
	s.RootControllers = rootControllers(mode, entries)
	s.SystemdBooted = exists("/run/systemd/system")
	s.InitName = initName()
	s.GrubDefaults = exists("/etc/default/grub")
	s.BusPath, s.BusExists = userBus(id.UID)
	s.BusAddress = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	return s
}

// readHiddenCgroups fills s.CgroupsHidden and, when the host's cgroups are
// hidden, s.NetnsName, for a caller that sees no cgroup hierarchy.
// Only root can read PID 1's mountinfo.
func readHiddenCgroups(s *State) {
	self, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer self.Close()
	pid1, err := os.Open("/proc/1/mountinfo")
	if err != nil {
		return
	}
	defer pid1.Close()
	s.CgroupsHidden = CgroupsHidden(self, pid1)
	if s.CgroupsHidden {
		s.NetnsName = netnsName()
	}
}

// netnsName returns the name in /run/netns ("ip netns add") that is bound
// to the caller's network namespace, or "" when none is.
func netnsName() string {
	var own unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &own); err != nil {
		return ""
	}
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return ""
	}
	for _, e := range entries {
		var st unix.Stat_t
		if unix.Stat(filepath.Join("/run/netns", e.Name()), &st) == nil && st.Dev == own.Dev && st.Ino == own.Ino {
			return e.Name()
		}
	}
	return ""
}

// rootControllers returns the controllers root could limit a container
// by: the v1 hierarchies of /proc/self/cgroup, which every process sees
// alike, or the controllers of the v2 root cgroup, which any user may
// read. It returns nil when neither can be read.
func rootControllers(mode Mode, entries []ProcCgroupEntry) []string {
	switch mode {
	case ModeUnified:
		controllers, _ := readControllersFile(filepath.Join(Root, "cgroup.controllers"))
		return controllers
	case ModeHybrid, ModeLegacy:
		return V1Controllers(entries)
	}
	return nil
}

// initName returns the name of PID 1, or "" when /proc/1/comm cannot be
// read (as with /proc mounted hidepid=2).
func initName() string {
	data, err := os.ReadFile("/proc/1/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func ownCgroup(mode Mode, entries []ProcCgroupEntry) string {
	if mode == ModeUnified {
		path, _ := UnifiedPath(entries)
		return path
	}
	path, _ := V1Path(entries, "memory")
	return path
}

// readControllers fills the controllers a container of the caller could be
// limited by, and where they come from.
func readControllers(s *State, entries []ProcCgroupEntry) {
	switch {
	case s.Mode != ModeUnified:
		s.Controllers = V1Controllers(entries)
		s.ControllersFrom = "/proc/self/cgroup"
		s.Delegated = !s.Rootless
	case !s.Rootless:
		s.ControllersFrom = filepath.Join(Root, "cgroup.controllers")
		s.Controllers, s.ControllersErr = readControllersFile(s.ControllersFrom)
		s.Delegated = true
	default:
		readDelegatedControllers(s)
	}
}

// readDelegatedControllers reads the controllers of the user's systemd
// manager, user@UID.service, or, when it does not exist, of the caller's
// own cgroup, which counts as delegated only when the user owns it.
//
// NOTE: only table tests cover this path so far, because the development
// hosts mount cgroups in hybrid mode without systemd.
func readDelegatedControllers(s *State) {
	service := fmt.Sprintf("user.slice/user-%d.slice/user@%d.service", s.UID, s.UID)
	dir := filepath.Join(Root, service)
	s.Delegated = true
	if !exists(dir) {
		dir = filepath.Join(Root, s.OwnCgroup)
		s.Delegated = ownedBy(dir, s.UID)
	}
	s.ControllersFrom = filepath.Join(dir, "cgroup.controllers")
	s.Controllers, s.ControllersErr = readControllersFile(s.ControllersFrom)
}

func readControllersFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseControllers(f)
}

func ownedBy(path string, uid int) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && int(st.Uid) == uid
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// userBus returns the socket of the user's D-Bus and whether it exists:
// $XDG_RUNTIME_DIR/bus, or /run/user/UID/bus where systemd-logind puts it
// when the caller's session (su, sudo, a test harness) set another
// runtime directory.
func userBus(uid int) (string, bool) {
	candidates := []string{filepath.Join(runtimeDir(uid), "bus"), fmt.Sprintf("/run/user/%d/bus", uid)}
	for _, path := range candidates {
		if exists(path) {
			return path, true
		}
	}
	return candidates[0], false
}

// runtimeDir returns $XDG_RUNTIME_DIR, or /run/user/UID (where
// systemd-logind creates it) when the variable is unset or relative.
func runtimeDir(uid int) string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		return dir
	}
	return fmt.Sprintf("/run/user/%d", uid)
}

// CheckHostSupport returns an *UnsupportedError when this host cannot
// enforce r for the calling user. It only reads, and reads nothing when r
// sets no limit.
func CheckHostSupport(r Resources) error {
	if !r.Limited() {
		return nil
	}
	return CheckSupport(readState(), r)
}

// OnlineCPUs returns the CPUs that are online, from
// /sys/devices/system/cpu/online.
func OnlineCPUs() ([]int, error) {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, err
	}
	return ParseCPUList(string(data))
}
