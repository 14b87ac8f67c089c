package cgroupv2

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Mode is the layout in which the host mounts cgroups.
type Mode int

// Cgroup modes, as [ModeFromMagic] decides them.
const (
	// ModeUnknown means /sys/fs/cgroup is neither cgroup2 nor a tmpfs of
	// v1 hierarchies, as in a container that does not mount cgroups.
	ModeUnknown Mode = iota
	// ModeUnified is cgroup v2 alone at /sys/fs/cgroup.
	ModeUnified
	// ModeHybrid is v1 hierarchies under /sys/fs/cgroup with cgroup2 at
	// /sys/fs/cgroup/unified, which gets only the controllers that no v1
	// hierarchy has taken.
	ModeHybrid
	// ModeLegacy is v1 hierarchies alone.
	ModeLegacy
)

func (m Mode) String() string {
	switch m {
	case ModeUnified:
		return "unified"
	case ModeHybrid:
		return "hybrid"
	case ModeLegacy:
		return "legacy"
	}
	return "unknown"
}

// Filesystem magic numbers from statfs(2), as linux/magic.h defines them.
const (
	magicCgroup2 = 0x63677270
	magicTmpfs   = 0x01021994
)

// ModeFromMagic decides the mode from the statfs f_type of /sys/fs/cgroup
// and of /sys/fs/cgroup/unified (0 when that directory does not exist).
func ModeFromMagic(root, unified int64) Mode {
	switch {
	case root == magicCgroup2:
		return ModeUnified
	case root != magicTmpfs:
		return ModeUnknown
	case unified == magicCgroup2:
		return ModeHybrid
	default:
		return ModeLegacy
	}
}

// ProcCgroupEntry is one line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH".
type ProcCgroupEntry struct {
	HierarchyID int
	// Controllers lists the v1 controllers of the hierarchy, such as "cpu"
	// and "cpuacct", or a name such as "name=systemd". It is empty for the
	// cgroup v2 entry, which has hierarchy id 0.
	Controllers []string
	// Path is the cgroup relative to the hierarchy's root.
	Path string
}

// ParseProcCgroup reads /proc/PID/cgroup.
func ParseProcCgroup(r io.Reader) ([]ProcCgroupEntry, error) {
	var entries []ProcCgroupEntry
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		if line == "" {
			continue
		}
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 || !strings.HasPrefix(fields[2], "/") {
			return nil, fmt.Errorf("line %d: %q is not ID:CONTROLLERS:PATH", n, line)
		}
		id, err := strconv.Atoi(fields[0])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("line %d: %q has an invalid hierarchy id", n, line)
		}
		e := ProcCgroupEntry{HierarchyID: id, Path: fields[2]}
		if fields[1] != "" {
			e.Controllers = strings.Split(fields[1], ",")
		}
		entries = append(entries, e)
	}
	return entries, scanner.Err()
}

// UnifiedPath returns the path of the cgroup v2 entry ("0::PATH").
func UnifiedPath(entries []ProcCgroupEntry) (string, bool) {
	for _, e := range entries {
		if e.HierarchyID == 0 && len(e.Controllers) == 0 {
			return e.Path, true
		}
	}
	return "", false
}

// V1Path returns the path of the v1 hierarchy that has controller.
func V1Path(entries []ProcCgroupEntry, controller string) (string, bool) {
	for _, e := range entries {
		if slices.Contains(e.Controllers, controller) {
			return e.Path, true
		}
	}
	return "", false
}

// V1Controllers returns the controllers of all v1 hierarchies, sorted,
// without named hierarchies such as "name=systemd".
func V1Controllers(entries []ProcCgroupEntry) []string {
	var controllers []string
	for _, e := range entries {
		for _, c := range e.Controllers {
			if !strings.HasPrefix(c, "name=") {
				controllers = append(controllers, c)
			}
		}
	}
	slices.Sort(controllers)
	return slices.Compact(controllers)
}

// ParseControllers reads a cgroup.controllers file: controller names
// separated by spaces on one line.
func ParseControllers(r io.Reader) ([]string, error) {
	data, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}

// MissingControllers returns the elements of want that are missing from
// have, in the order of want.
func MissingControllers(have, want []string) []string {
	var missing []string
	for _, c := range want {
		if !slices.Contains(have, c) {
			missing = append(missing, c)
		}
	}
	return missing
}
