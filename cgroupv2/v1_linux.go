package cgroupv2

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// v1Cgroup is a container's cgroup on a host with cgroup v1 hierarchies:
// a directory gocker-ID under the caller's cgroup in each hierarchy it
// joined.
type v1Cgroup struct {
	// dirs are the directories that createV1 made, in creation order.
	dirs      []string
	memoryDir string
}

// v1Joined are the controllers whose hierarchies every container with
// limits joins, when they are mounted: they carry the memory, CPU and
// pids figures of "gocker stats" and the OOM kill count.
var v1Joined = []string{"memory", "cpu", "cpuacct", "pids"}

func createV1(opts Options) (_ Cgroup, retErr error) {
	mounts, err := readV1Mounts()
	if err != nil {
		return nil, err
	}
	entries, err := ReadProcCgroup()
	if err != nil {
		return nil, err
	}
	cg := &v1Cgroup{}
	defer func() {
		if retErr != nil {
			_ = cg.Remove(context.Background())
		}
	}()
	r := opts.Resources
	required := r.Controllers()
	var joined []string // mount points already joined: cpu and cpuacct may share one
	for _, c := range append(slices.Clone(required), v1Joined...) {
		m, ok := V1MountOf(mounts, c)
		if !ok {
			if slices.Contains(required, c) {
				return nil, &UnsupportedError{
					Flags:  joinAnd(r.flagsFor(c)),
					Reason: fmt.Sprintf("the cgroup v1 %s controller is not mounted (/proc/self/mountinfo has no cgroup mount with it)", c),
					Fix:    []string{"# mount the hierarchy, e.g. mkdir /sys/fs/cgroup/" + c + " && mount -t cgroup -o " + c + " cgroup /sys/fs/cgroup/" + c},
				}
			}
			continue
		}
		if slices.Contains(joined, m.MountPoint) {
			continue
		}
		joined = append(joined, m.MountPoint)
		dir, err := cg.join(m, entries, opts)
		if err != nil {
			return nil, err
		}
		if slices.Contains(m.Controllers, "memory") {
			cg.memoryDir = dir
		}
	}
	return cg, nil
}

// join creates gocker-ID under the caller's cgroup of hierarchy m, writes
// the limits of m's controllers and moves the process in.
func (cg *v1Cgroup) join(m V1Mount, entries []ProcCgroupEntry, opts Options) (string, error) {
	own, ok := V1Path(entries, m.Controllers[0])
	if !ok {
		return "", fmt.Errorf("/proc/self/cgroup has no entry for the %s hierarchy", strings.Join(m.Controllers, ","))
	}
	parent, ok := m.Dir(own)
	if !ok {
		return "", fmt.Errorf("cgroup %s is not visible under %s", own, m.MountPoint)
	}
	removeStale(parent, "gocker-")
	dir := filepath.Join(parent, "gocker-"+opts.ID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("create cgroup: %w", err)
	}
	cg.dirs = append(cg.dirs, dir)
	for _, c := range m.Controllers {
		writes, err := v1Writes(c, opts.Resources, dir, parent)
		if err != nil {
			return "", err
		}
		if err := applyWrites(dir, writes); err != nil {
			return "", err
		}
	}
	if err := addProcess(dir, opts.Pid); err != nil {
		return "", err
	}
	return dir, nil
}

// v1Writes returns the limits of r for one cgroup v1 controller.
func v1Writes(controller string, r Resources, dir, parent string) ([]write, error) {
	switch controller {
	case "memory":
		return v1MemoryWrites(r, fileExists(filepath.Join(dir, "memory.memsw.limit_in_bytes")))
	case "cpuset":
		if r.CpusetCpus == "" {
			return nil, nil
		}
		// A new cpuset cgroup starts with no memory nodes, and a process
		// cannot join it until it has some: it gets the parent's.
		mems, err := os.ReadFile(filepath.Join(parent, "cpuset.mems"))
		if err != nil {
			return nil, err
		}
		return []write{{"cpuset.mems", strings.TrimSpace(string(mems))}, {"cpuset.cpus", r.CpusetCpus}}, nil
	}
	return V1Writes(controller, r), nil
}

func v1MemoryWrites(r Resources, hasMemsw bool) ([]write, error) {
	writes := V1Writes("memory", r)
	if hasMemsw {
		return writes, nil
	}
	if _, _, explicit := r.SwapLimit(); explicit {
		return nil, &UnsupportedError{
			Flags:  "--memory-swap",
			Reason: "the kernel does not account swap in cgroup v1 (memory.memsw.limit_in_bytes is missing)",
			Fix:    []string{"# add swapaccount=1 to the kernel command line and reboot, or leave out --memory-swap"},
		}
	}
	// Without swap accounting the default swap limit cannot be set, and
	// Docker leaves it out too.
	return slices.DeleteFunc(writes, func(w write) bool { return w.file == "memory.memsw.limit_in_bytes" }), nil
}

func (cg *v1Cgroup) OOMKilled() bool {
	if cg.memoryDir == "" {
		return false
	}
	values, err := readKeyedFile(filepath.Join(cg.memoryDir, "memory.oom_control"))
	return err == nil && values["oom_kill"] > 0
}

func (cg *v1Cgroup) Dirs() []string { return slices.Clone(cg.dirs) }

func (cg *v1Cgroup) Remove(ctx context.Context) error {
	var errs []error
	for i := len(cg.dirs) - 1; i >= 0; i-- {
		errs = append(errs, removeDir(ctx, cg.dirs[i]))
	}
	cg.dirs = nil
	return errors.Join(errs...)
}

func readV1Mounts() ([]V1Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts, err := ParseV1Mounts(f)
	if err != nil {
		return nil, fmt.Errorf("parse /proc/self/mountinfo: %w", err)
	}
	return mounts, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
