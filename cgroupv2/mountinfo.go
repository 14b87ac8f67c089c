package cgroupv2

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// V1Mount is a mounted cgroup v1 hierarchy, from /proc/self/mountinfo.
type V1Mount struct {
	// MountPoint is the hierarchy's mount point, such as
	// /sys/fs/cgroup/memory.
	MountPoint string
	// Root is the cgroup of the hierarchy that appears at MountPoint,
	// usually "/".
	Root string
	// Controllers are the hierarchy's controllers and its name option,
	// such as "cpu" and "cpuacct", or "name=systemd".
	Controllers []string
}

// Dir returns the directory of cgroup, a path in the hierarchy as
// /proc/PID/cgroup shows it, or false when the mount does not show it.
func (m V1Mount) Dir(cgroup string) (string, bool) {
	root, cg := path.Clean(m.Root), path.Clean(cgroup)
	if root != "/" {
		if cg != root && !strings.HasPrefix(cg, root+"/") {
			return "", false
		}
		cg = strings.TrimPrefix(cg, root)
	}
	return path.Join(m.MountPoint, cg), true
}

// v1Controllers are the controllers of cgroup v1, which appear among a
// hierarchy's mount options with flags such as "noprefix" and "xattr".
var v1Controllers = map[string]bool{
	"blkio": true, "cpu": true, "cpuacct": true, "cpuset": true, "devices": true,
	"freezer": true, "hugetlb": true, "memory": true, "misc": true, "net_cls": true,
	"net_prio": true, "perf_event": true, "pids": true, "rdma": true, "debug": true,
}

// ParseV1Mounts returns the cgroup v1 mounts of a mountinfo file
// (proc(5), /proc/PID/mountinfo), the first one of each hierarchy.
func ParseV1Mounts(r io.Reader) ([]V1Mount, error) {
	var mounts []V1Mount
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		// 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
		fields := strings.Fields(scanner.Text())
		sep := slices.Index(fields, "-")
		if sep < 6 || len(fields) < sep+4 {
			return nil, fmt.Errorf("line %d: %q is not a mountinfo line", n, scanner.Text())
		}
		if fields[sep+1] != "cgroup" {
			continue
		}
		var controllers []string
		for _, opt := range strings.Split(fields[sep+3], ",") {
			if v1Controllers[opt] || strings.HasPrefix(opt, "name=") {
				controllers = append(controllers, opt)
			}
		}
		if len(controllers) == 0 {
			continue
		}
		m := V1Mount{MountPoint: unescapeMountinfo(fields[4]), Root: unescapeMountinfo(fields[3]), Controllers: controllers}
		if !slices.ContainsFunc(mounts, func(o V1Mount) bool { return slices.Equal(o.Controllers, controllers) }) {
			mounts = append(mounts, m)
		}
	}
	return mounts, scanner.Err()
}

// V1MountOf returns the mount of the hierarchy that has controller.
func V1MountOf(mounts []V1Mount, controller string) (V1Mount, bool) {
	for _, m := range mounts {
		if slices.Contains(m.Controllers, controller) {
			return m, true
		}
	}
	return V1Mount{}, false
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// mountinfo's path fields.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			var v byte
			ok := true
			for _, c := range []byte(s[i+1 : i+4]) {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + c - '0'
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountinfoSummary contains the mount ids of a mountinfo file and whether
// it lists a cgroup or cgroup2 mount.
type mountinfoSummary struct {
	ids       map[string]bool
	hasCgroup bool
}

// summarizeMountinfo parses a mountinfo file (proc(5), /proc/PID/mountinfo).
func summarizeMountinfo(r io.Reader) (mountinfoSummary, error) {
	sum := mountinfoSummary{ids: map[string]bool{}}
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		fields := strings.Fields(scanner.Text())
		sep := slices.Index(fields, "-")
		if sep < 6 || len(fields) < sep+2 {
			return sum, fmt.Errorf("line %d: %q is not a mountinfo line", n, scanner.Text())
		}
		sum.ids[fields[0]] = true
		if fstype := fields[sep+1]; fstype == "cgroup" || fstype == "cgroup2" {
			sum.hasCgroup = true
		}
	}
	return sum, scanner.Err()
}

// CgroupsHidden decides, from the mountinfo files of the caller and of PID
// 1, whether the caller runs in a mount namespace other than PID 1's while
// PID 1's has cgroup mounts, as under "ip netns exec", which mounts a fresh
// sysfs at /sys in a new mount namespace. Mount ids are unique among the
// live mounts of the host and a new mount namespace gets copies with new
// ids, so two files without a common id belong to different namespaces.
// This works where /proc/1/ns/mnt is unreadable but /proc/1/mountinfo is
// not. An empty or invalid file decides nothing, so the result is false.
func CgroupsHidden(self, pid1 io.Reader) bool {
	selfMounts, err := summarizeMountinfo(self)
	if err != nil || len(selfMounts.ids) == 0 {
		return false
	}
	pid1Mounts, err := summarizeMountinfo(pid1)
	if err != nil || !pid1Mounts.hasCgroup {
		return false
	}
	for id := range selfMounts.ids {
		if pid1Mounts.ids[id] {
			return false
		}
	}
	return true
}
