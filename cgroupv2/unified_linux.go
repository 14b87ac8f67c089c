package cgroupv2

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/cgroups/v3/cgroup2"
)

// rootParent is the cgroup, under the cgroup v2 root, that holds the
// cgroups of root's containers. gocker creates it and keeps it.
const rootParent = "gocker"

// unifiedCgroup is a container's cgroup v2 leaf: the directory that holds
// its processes and its limits.
type unifiedCgroup struct {
	dir string
}

// createUnified creates /sys/fs/cgroup/gocker/ID for root.
func createUnified(opts Options) (_ Cgroup, retErr error) {
	parent := filepath.Join(Root, rootParent)
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	// The controllers reach gocker only when the root cgroup enables them
	// for its children, which the host's init system decides.
	available, err := readControllersFile(filepath.Join(parent, "cgroup.controllers"))
	if err != nil {
		return nil, err
	}
	if missing := MissingControllers(available, opts.Resources.Controllers()); len(missing) > 0 {
		c := missing[0]
		return nil, &UnsupportedError{
			Flags:  joinAnd(opts.Resources.flagsFor(c)),
			Reason: fmt.Sprintf("the %s controller is not enabled for the children of the root cgroup (%s offers %s)", c, filepath.Join(parent, "cgroup.controllers"), listOrNone(available)),
			Fix:    []string{fmt.Sprintf("echo +%s | sudo tee %s", c, filepath.Join(Root, "cgroup.subtree_control"))},
		}
	}
	if err := enableControllers(parent, statControllers(available, opts.Resources)); err != nil {
		return nil, err
	}
	removeStale(parent, "")
	cg := &unifiedCgroup{dir: filepath.Join(parent, opts.ID)}
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	defer func() {
		if retErr != nil {
			_ = removeDir(context.Background(), cg.dir)
		}
	}()
	if err := cg.apply(opts); err != nil {
		return nil, err
	}
	return cg, nil
}

// apply writes the limits with containerd's cgroup2 manager and moves the
// process in.
func (cg *unifiedCgroup) apply(opts Options) error {
	rel, err := filepath.Rel(Root, cg.dir)
	if err != nil {
		return err
	}
	res, err := unifiedResources(opts.Resources, fileExists(filepath.Join(cg.dir, "memory.swap.max")))
	if err != nil {
		return err
	}
	m, err := cgroup2.Load("/" + rel)
	if err != nil {
		return err
	}
	if err := m.Update(res); err != nil {
		return fmt.Errorf("set limits of cgroup %s: %w", cg.dir, err)
	}
	return addProcess(cg.dir, opts.Pid)
}

// statControllers returns the controllers a container's cgroup gets: those
// that enforce r, and memory, cpu and pids for "gocker stats" and the OOM
// kill count where available.
func statControllers(available []string, r Resources) []string {
	want := r.Controllers()
	for _, c := range []string{"cpu", "memory", "pids"} {
		if slices.Contains(available, c) && !slices.Contains(want, c) {
			want = append(want, c)
		}
	}
	slices.Sort(want)
	return want
}

// enableControllers enables controllers for the children of dir.
func enableControllers(dir string, controllers []string) error {
	if len(controllers) == 0 {
		return nil
	}
	enable := make([]string, len(controllers))
	for i, c := range controllers {
		enable[i] = "+" + c
	}
	return writeFile(filepath.Join(dir, "cgroup.subtree_control"), strings.Join(enable, " "))
}

// unifiedResources converts r for containerd's cgroup2 manager. hasSwap
// tells whether the cgroup has memory.swap.max, which kernels without swap
// support lack.
func unifiedResources(r Resources, hasSwap bool) (*cgroup2.Resources, error) {
	res := &cgroup2.Resources{}
	if r.Memory > 0 {
		res.Memory = &cgroup2.Memory{Max: &r.Memory}
		swap, unlimited, explicit := r.SwapLimit()
		if unlimited {
			// The kernel stores limits in pages and reads this back as
			// "max".
			swap = math.MaxInt64
		}
		switch {
		case hasSwap:
			res.Memory.Swap = &swap
		case explicit:
			return nil, &UnsupportedError{
				Flags:  "--memory-swap",
				Reason: "the kernel has no swap support in its memory controller (memory.swap.max is missing)",
				Fix:    []string{"# leave out --memory-swap"},
			}
		}
	}
	if r.NanoCPUs > 0 || r.CPUShares > 0 || r.CpusetCpus != "" {
		res.CPU = &cgroup2.CPU{Cpus: r.CpusetCpus}
		if r.NanoCPUs > 0 {
			quota, period := CPUQuota(r.NanoCPUs), uint64(CPUPeriod)
			res.CPU.Max = cgroup2.NewCPUMax(&quota, &period)
		}
		if r.CPUShares > 0 {
			weight := CPUWeight(r.CPUShares)
			res.CPU.Weight = &weight
		}
	}
	if r.PidsLimit != 0 {
		res.Pids = &cgroup2.Pids{Max: r.PidsLimit}
	}
	return res, nil
}

func (cg *unifiedCgroup) OOMKilled() bool {
	values, err := readKeyedFile(filepath.Join(cg.dir, "memory.events"))
	return err == nil && values["oom_kill"] > 0
}

func (cg *unifiedCgroup) Dirs() []string { return []string{cg.dir} }

func (cg *unifiedCgroup) Remove(ctx context.Context) error {
	return removeDir(ctx, cg.dir)
}

// procCgroupPath returns the cgroup v2 path of process pid.
func procCgroupPath(pid int) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	entries, err := ParseProcCgroup(f)
	if err != nil {
		return "", fmt.Errorf("parse /proc/%d/cgroup: %w", pid, err)
	}
	path, ok := UnifiedPath(entries)
	if !ok {
		return "", fmt.Errorf("/proc/%d/cgroup has no cgroup v2 entry", pid)
	}
	return path, nil
}
