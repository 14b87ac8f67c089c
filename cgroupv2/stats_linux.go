package cgroupv2

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/cgroups/v3/cgroup2"
)

// Usage is one sample of a cgroup's resource usage.
type Usage struct {
	// CPU is the CPU time that the cgroup's processes used so far.
	CPU time.Duration
	// Memory is the memory in use without the inactive file cache, as
	// "docker stats" counts it, in bytes.
	Memory uint64
	// MemoryLimit is the memory limit in bytes, 0 when there is none.
	MemoryLimit uint64
	// Pids is the number of tasks.
	Pids uint64
}

// unlimitedMemory is the smallest value that cgroup v1 reports for "no
// limit" (the page counter's maximum, rounded down to pages).
const unlimitedMemory = 1 << 62

// ReadUsage samples the usage of the cgroup of process pid: its cgroup v2
// cgroup, or its memory, cpuacct and pids cgroups on cgroup v1 hosts.
func ReadUsage(pid int) (Usage, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return Usage{}, err
	}
	entries, err := ParseProcCgroup(f)
	f.Close()
	if err != nil {
		return Usage{}, err
	}
	mode, err := DetectMode()
	if err != nil {
		return Usage{}, err
	}
	if mode == ModeUnified {
		path, _ := UnifiedPath(entries)
		return readUnifiedUsage(path)
	}
	mounts, err := readV1Mounts()
	if err != nil {
		return Usage{}, err
	}
	return readV1Usage(entries, mounts), nil
}

func readUnifiedUsage(group string) (Usage, error) {
	m, err := cgroup2.Load(group)
	if err != nil {
		return Usage{}, err
	}
	metrics, err := m.StatFiltered(cgroup2.StatCPU | cgroup2.StatMemory | cgroup2.StatPids)
	if err != nil {
		return Usage{}, fmt.Errorf("read cgroup %s: %w", group, err)
	}
	var u Usage
	if cpu := metrics.GetCPU(); cpu != nil {
		u.CPU = time.Duration(cpu.GetUsageUsec()) * time.Microsecond
	}
	if mem := metrics.GetMemory(); mem != nil {
		u.Memory = mem.GetUsage() - min(mem.GetUsage(), mem.GetInactiveFile())
		if limit := mem.GetUsageLimit(); limit < unlimitedMemory {
			u.MemoryLimit = limit
		}
	}
	if pids := metrics.GetPids(); pids != nil {
		u.Pids = pids.GetCurrent()
	}
	return u, nil
}

// readV1Usage reads what it can: a hierarchy that is not mounted leaves
// its figures at zero.
func readV1Usage(entries []ProcCgroupEntry, mounts []V1Mount) Usage {
	dir := func(controller string) string {
		m, ok := V1MountOf(mounts, controller)
		if !ok {
			return ""
		}
		path, _ := V1Path(entries, controller)
		d, _ := m.Dir(path)
		return d
	}
	var u Usage
	if d := dir("memory"); d != "" {
		usage := readUint(filepath.Join(d, "memory.usage_in_bytes"))
		stat, _ := readKeyedFile(filepath.Join(d, "memory.stat"))
		u.Memory = usage - min(usage, stat["total_inactive_file"])
		if limit := readUint(filepath.Join(d, "memory.limit_in_bytes")); limit < unlimitedMemory {
			u.MemoryLimit = limit
		}
	}
	if d := dir("cpuacct"); d != "" {
		u.CPU = time.Duration(readUint(filepath.Join(d, "cpuacct.usage")))
	}
	if d := dir("pids"); d != "" {
		u.Pids = readUint(filepath.Join(d, "pids.current"))
	}
	return u
}

// readUint reads a file of one unsigned number, 0 when it cannot.
func readUint(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	return n
}
