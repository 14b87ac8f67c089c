//go:build integration

package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocker/gocker/cgroupv2"
)

// limitsHost describes how the host enforces limits for one kind of
// gocker: the cgroup mode, and the paths of the interface files inside
// the container, relative to its /sys/fs/cgroup.
type limitsHost struct {
	mode  cgroupv2.Mode
	files map[string]string
}

var v1Files = map[string]string{
	"memory": "memory/memory.limit_in_bytes", "memsw": "memory/memory.memsw.limit_in_bytes",
	"quota": "cpu/cpu.cfs_quota_us", "shares": "cpu/cpu.shares", "pids.max": "pids/pids.max",
	"pids.current": "pids/pids.current", "pids.events": "pids/pids.events", "cpuset": "cpuset/cpuset.cpus",
}

var v2Files = map[string]string{
	"memory": "memory.max", "memsw": "memory.swap.max", "quota": "cpu.max", "shares": "cpu.weight",
	"pids.max": "pids.max", "pids.current": "pids.current", "pids.events": "pids.events", "cpuset": "cpuset.cpus",
}

// requireLimits skips the test unless g can enforce limits on this host:
// root on cgroup v1 or v2, rootless on cgroup v2 with a systemd user
// manager that runs for the test user (lingering).
func requireLimits(t *testing.T, g *gocker) limitsHost {
	t.Helper()
	mode, err := cgroupv2.DetectMode()
	if err != nil || mode == cgroupv2.ModeUnknown {
		t.Skipf("needs cgroups at %s: %v", cgroupv2.Root, err)
	}
	if mode != cgroupv2.ModeUnified {
		if g.acct != nil {
			t.Skipf("rootless limits need cgroup v2, this host has %v mode: the systemd guest (make test-vm) covers them", mode)
		}
		return limitsHost{mode: mode, files: v1Files}
	}
	if g.acct != nil {
		bus := fmt.Sprintf("/run/user/%d/bus", g.acct.uid)
		if _, err := os.Stat(bus); err != nil {
			t.Skipf("rootless limits need the systemd user manager of %s, and %s is missing: sudo loginctl enable-linger %s", g.acct.name, bus, g.acct.name)
		}
	}
	return limitsHost{mode: mode, files: v2Files}
}

// hasCpuset reports whether root's containers can get cpuset limits: on
// cgroup v2 the root cgroup must enable cpuset for its children, which
// systemd does only when a unit asks for it.
func (h limitsHost) hasCpuset() bool {
	if h.mode != cgroupv2.ModeUnified {
		return true
	}
	data, err := os.ReadFile(filepath.Join(cgroupv2.Root, "cgroup.subtree_control"))
	return err == nil && strings.Contains(string(data), "cpuset")
}

// file returns the container's path of interface file key.
func (h limitsHost) file(key string) string { return "/sys/fs/cgroup/" + h.files[key] }

// eachKind runs test once as root and once rootless.
func eachKind(t *testing.T, test func(t *testing.T, g *gocker, h limitsHost)) {
	for _, kind := range []string{"root", "rootless"} {
		t.Run(kind, func(t *testing.T) {
			var g *gocker
			if kind == "root" {
				g = newRootful(t)
			} else {
				g = newRootless(t)
			}
			h := requireLimits(t, g)
			g.busybox(t)
			test(t, g, h)
		})
	}
}

// state reads the state of the newest container of the store.
func (g *gocker) state(t *testing.T) (string, map[string]any) {
	t.Helper()
	ids := g.lines(g.try("ps", "-aq", "--no-trunc"))
	if len(ids) == 0 {
		t.Fatal("no container in the store")
	}
	data, err := os.ReadFile(filepath.Join(g.root, "containers", ids[0], "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatal(err)
	}
	return ids[0], state
}

// cgroupDirs returns the host directories where gocker creates the cgroup
// of container id: gocker-ID under the test's own cgroup of each v1
// hierarchy, gocker/ID under the cgroup v2 root, or the systemd scope
// rootless.
func (g *gocker) cgroupDirs(t *testing.T, h limitsHost, id string) []string {
	t.Helper()
	if h.mode == cgroupv2.ModeUnified {
		if g.acct != nil {
			return []string{fmt.Sprintf("%s/user.slice/user-%d.slice/user@%d.service/user.slice/gocker-%s.scope", cgroupv2.Root, g.acct.uid, g.acct.uid, id)}
		}
		return []string{filepath.Join(cgroupv2.Root, "gocker", id)}
	}
	entries, err := cgroupv2.ReadProcCgroup()
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, c := range []string{"memory", "cpu", "cpuacct", "pids", "cpuset"} {
		if own, ok := cgroupv2.V1Path(entries, c); ok {
			dirs = append(dirs, filepath.Join(cgroupv2.Root, c, own, "gocker-"+id))
		}
	}
	return dirs
}

// checkRemoved checks that the container's cgroups are gone. The user's
// systemd manager removes a scope shortly after its last process exited,
// so the check waits up to five seconds.
func (g *gocker) checkRemoved(t *testing.T, h limitsHost, id string) {
	t.Helper()
	for _, dir := range g.cgroupDirs(t, h, id) {
		deadline := time.Now().Add(5 * time.Second)
		for exists(dir) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if exists(dir) {
			t.Errorf("cgroup %s still exists after the container exited", dir)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestRunLimitsInvalid(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--memory", "64x"}, `invalid --memory: "64x" is not a size`},
		{[]string{"--memory", "1m"}, "invalid --memory 1m: the minimum is 6m"},
		{[]string{"--memory-swap", "128m"}, "invalid --memory-swap 128m: it limits memory plus swap, so it needs --memory too"},
		{[]string{"-m", "64m", "--memory-swap", "32m"}, "invalid --memory-swap 32m"},
		{[]string{"--cpus", "lots"}, `invalid --cpus: "lots" is not a number of CPUs`},
		{[]string{"--cpus", "4096"}, "invalid --cpus 4096: this host has"},
		{[]string{"--cpus", "999"}, "CPUs online, so use at most"},
		{[]string{"--cpu-shares", "1"}, "invalid --cpu-shares 1: use 2 to 262144"},
		{[]string{"--cpu-shares", "many"}, `invalid argument "many" for "-c, --cpu-shares" flag: expected an integer`},
		{[]string{"--pids-limit", "x"}, `invalid argument "x" for "--pids-limit" flag: expected an integer`},
		{[]string{"--cpuset-cpus", "0-9999"}, `invalid --cpuset-cpus "0-9999"`},
		{[]string{"--pids-limit", "-7"}, "invalid --pids-limit -7"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append(append([]string{"run", "--rm", "--network", "none"}, tt.args...), "busybox", "true")
			stderr := g.fails(125, args...)
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
			}
		})
	}
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("invalid limits left containers behind: %v", ids)
	}
}

func TestRunLimitsRootlessOnCgroupV1(t *testing.T) {
	mode, err := cgroupv2.DetectMode()
	if err != nil || (mode != cgroupv2.ModeHybrid && mode != cgroupv2.ModeLegacy) {
		t.Skipf("needs a cgroup v1 host, this one has %v mode", mode)
	}
	g := newRootless(t)
	g.busybox(t)
	stderr := g.fails(125, "run", "--rm", "--network", "none", "--memory", "64m", "--pids-limit", "10", "busybox", "true")
	// The fix depends on the host: a kernel parameter where systemd is
	// PID 1, and no systemd-only step where it is not.
	want := []string{"cannot enforce --memory and --pids-limit", "cgroup v1", "without --memory and --pids-limit"}
	var unwanted []string
	if exists("/run/systemd/system") {
		want = append(want, "systemd.unified_cgroup_hierarchy=1")
	} else {
		want = append(want, "systemd user manager")
		unwanted = append(unwanted, "systemd.unified_cgroup_hierarchy", "loginctl")
	}
	if !exists("/etc/default/grub") {
		unwanted = append(unwanted, "update-grub", "/etc/default/grub")
	}
	for _, s := range want {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, s)
		}
	}
	for _, s := range unwanted {
		if strings.Contains(stderr, s) {
			t.Errorf("stderr = %q suggests %q, which does not apply to this host", stderr, s)
		}
	}
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("a limit that cannot be enforced left containers behind: %v", ids)
	}
	// Without limits the same user runs containers on this host.
	if out := g.ok("run", "--rm", "--network", "none", "busybox", "echo", "fine"); out != "fine\n" {
		t.Errorf("run without limits = %q", out)
	}
}

func TestRunLimitsHiddenCgroups(t *testing.T) {
	if mode, err := cgroupv2.DetectMode(); err != nil || mode == cgroupv2.ModeUnknown {
		t.Skipf("needs a host with cgroups mounted, this one has %v mode (%v)", mode, err)
	}
	g := newRootful(t)
	g.busybox(t)
	// A private mount namespace with a fresh sysfs at /sys, as "ip netns
	// exec" makes, shows no cgroup mounts; the host's /sys stays as it is.
	g.wrapper = []string{"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", `mount -t sysfs sysfs /sys && exec "$@"`, "sh"}

	stderr := g.fails(125, "run", "--rm", "--network", "none", "--memory", "32m", "busybox", "true")
	for _, want := range []string{
		"cannot enforce --memory",
		"mount namespace has no cgroup mounts at /sys/fs/cgroup",
		"nsenter --net=/run/netns/" + g.netns,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "mount cgroup2 at /sys/fs/cgroup") {
		t.Errorf("stderr = %q, want no advice to mount cgroup2 on a host that has cgroups", stderr)
	}

	out := g.try("doctor").stdout
	if row := doctorRow(out, "cgroup-limits"); !strings.Contains(row, "mount namespace has no cgroup mounts at /sys/fs/cgroup") {
		t.Errorf("doctor row cgroup-limits = %q, want the mount namespace named as the cause\n%s", row, out)
	}
	if row := doctorRow(out, "cgroup"); !strings.Contains(row, "PID 1's mount namespace has cgroup mounts") {
		t.Errorf("doctor row cgroup = %q, want PID 1's cgroup mounts named", row)
	}
}

func TestRunCgroupNamespace(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	out := g.ok("run", "--rm", "--network", "none", "busybox", "cat", "/proc/self/cgroup")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("/proc/self/cgroup line %q is not the namespace's root", line)
		}
	}
	mounts := g.ok("run", "--rm", "--network", "none", "busybox", "grep", " /sys/fs/cgroup", "/proc/self/mounts")
	if !strings.Contains(mounts, "/sys/fs/cgroup ") || !strings.Contains(mounts, " ro,") {
		t.Errorf("/sys/fs/cgroup is not mounted read-only: %q", mounts)
	}
}

func TestRunLimits(t *testing.T) {
	eachKind(t, func(t *testing.T, g *gocker, h limitsHost) {
		args := []string{"--memory", "64m", "--memory-swap", "96m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "32"}
		keys := []string{"memory", "memsw", "quota", "shares", "pids.max"}
		want := []string{"67108864", "100663296", "50000", "512", "32"}
		if h.mode == cgroupv2.ModeUnified {
			// cgroup v2 limits swap alone, and cpu.weight is the
			// converted cpu.shares.
			want = []string{"67108864", "33554432", "50000 100000", "20", "32"}
		}
		if g.acct == nil && h.hasCpuset() {
			// cpuset is delegated to users only by a systemd drop-in.
			args = append(args, "--cpuset-cpus", "0")
			keys = append(keys, "cpuset")
			want = append(want, "0")
		}
		script := "grep -c ':/$' /proc/self/cgroup"
		for _, k := range keys {
			script += "; cat " + h.file(k)
		}
		script += "; touch " + h.file("memory") + " 2>/dev/null && echo writable || echo read-only"
		out := g.ok(append(append([]string{"run", "--network", "none"}, args...), "busybox", "sh", "-c", script)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(want)+2 {
			t.Fatalf("inside the container: %q", out)
		}
		if lines[0] == "0" {
			t.Errorf("/proc/self/cgroup shows no cgroup at the namespace's root")
		}
		if got := strings.Join(lines[1:len(lines)-1], "|"); got != strings.Join(want, "|") {
			t.Errorf("limits in the container = %q, want %q", got, strings.Join(want, "|"))
		}
		if lines[len(lines)-1] != "read-only" {
			t.Errorf("the container can write its cgroup")
		}
		id, state := g.state(t)
		if state["OOMKilled"] != false {
			t.Errorf("OOMKilled = %v after a normal exit", state["OOMKilled"])
		}
		inspected := map[string]string{
			"Memory": "67108864", "MemorySwap": "100663296", "NanoCpus": "500000000", "CpuShares": "512", "PidsLimit": "32",
		}
		if slices.Contains(args, "--cpuset-cpus") {
			inspected["CpusetCpus"] = "0"
		}
		for field, want := range inspected {
			if got := g.field(t, id, "{{.HostConfig."+field+"}}"); got != want {
				t.Errorf("inspect HostConfig.%s = %q, want %q", field, got, want)
			}
		}
		g.checkRemoved(t, h, id)
	})
}

func TestRunOOMKilled(t *testing.T) {
	eachKind(t, func(t *testing.T, g *gocker, h limitsHost) {
		// tail buffers /dev/zero, which has no newline, until the limit.
		res := g.try("run", "--network", "none", "--memory", "32m", "--memory-swap", "32m", "busybox", "tail", "/dev/zero")
		if res.code != 137 {
			t.Fatalf("want exit 137, got %s", res)
		}
		id, state := g.state(t)
		if state["OOMKilled"] != true || state["ExitCode"] != float64(137) {
			t.Errorf("state = %v, want OOMKilled true and ExitCode 137", state)
		}
		g.checkRemoved(t, h, id)
	})
}

func TestRunKilledNotOOMKilled(t *testing.T) {
	eachKind(t, func(t *testing.T, g *gocker, h limitsHost) {
		e, pid := startContainer(t, g, "--network", "none", "--memory", "32m", "busybox", "sleep", "1000")
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := e.exitCode(t); code != 137 {
			t.Fatalf("exit status after SIGKILL = %d, want 137", code)
		}
		if _, state := g.state(t); state["OOMKilled"] != false {
			t.Errorf("OOMKilled = %v after a plain SIGKILL, want false", state["OOMKilled"])
		}
	})
}

func TestRunPidsLimit(t *testing.T) {
	eachKind(t, func(t *testing.T, g *gocker, h limitsHost) {
		// A bounded fork bomb: an inner shell starts 100 background
		// sleeps against a limit of 16 tasks and dies when a fork fails.
		// The outer shell then reads the counters with builtins, as no
		// fork is left.
		script := fmt.Sprintf(`sh -c 'i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null
read current < %s; read events < %s; echo $current $events`, h.file("pids.current"), h.file("pids.events"))
		out := g.ok("run", "--network", "none", "--pids-limit", "16", "busybox", "sh", "-c", script)
		fields := strings.Fields(out)
		if len(fields) != 3 || fields[1] != "max" {
			t.Fatalf("pids.current and pids.events = %q", out)
		}
		current, _ := strconv.Atoi(fields[0])
		failed, _ := strconv.Atoi(fields[2])
		if current > 16 || current < 13 {
			t.Errorf("pids.current = %d after the fork bomb, want just below the limit 16", current)
		}
		if failed == 0 {
			t.Errorf("pids.events counts no failed fork: %q", out)
		}
	})
}

func TestRunCPUQuota(t *testing.T) {
	eachKind(t, func(t *testing.T, g *gocker, h limitsHost) {
		// A busy loop for two seconds of wall time may use half a CPU
		// second under --cpus 0.25, and two without a limit.
		usage := "cat /sys/fs/cgroup/cpuacct/cpuacct.usage"
		if h.mode == cgroupv2.ModeUnified {
			usage = "sed -n 's/^usage_usec //p' /sys/fs/cgroup/cpu.stat"
		}
		out := g.ok("run", "--network", "none", "--cpus", "0.25", "busybox", "sh", "-c", "timeout 2 sh -c 'while :; do :; done'; "+usage)
		n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			t.Fatalf("CPU usage = %q", out)
		}
		used := time.Duration(n) // cpuacct.usage counts nanoseconds
		if h.mode == cgroupv2.ModeUnified {
			used = time.Duration(n) * time.Microsecond
		}
		// The bound is loose: the CFS period of 100ms lets a window hold
		// a period's quota more, the shells' start counts too, and the
		// emulated test guest measured 0.82s. An unthrottled loop uses
		// the whole 2s.
		if used > time.Second {
			t.Errorf("a busy loop used %v of CPU in 2s under --cpus 0.25", used)
		}
	})
}

func TestStats(t *testing.T) {
	eachKind(t, func(t *testing.T, g *gocker, h limitsHost) {
		e, pid := startContainer(t, g, "--network", "none", "--name", "limited", "--memory", "64m", "--pids-limit", "20", "busybox", "sh", "-c", "sleep 60 & sleep 60")
		// Ending the container, not gocker, lets gocker remove the cgroup.
		defer func() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			e.exitCode(t)
		}()
		out := g.ok("stats", "--no-stream", "limited")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "CONTAINER ID") {
			t.Fatalf("stats output = %q", out)
		}
		// ID NAME CPU% USAGE / LIMIT MEM% PIDS
		fields := strings.Fields(lines[1])
		if len(fields) != 8 || fields[1] != "limited" || fields[5] != "64MiB" || fields[7] != "2" {
			t.Errorf("stats row = %q, want the name, a 64MiB limit and 2 processes", lines[1])
		}
	})
}

func TestStatsWithoutCgroup(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	startContainer(t, g, "--network", "none", "--name", "plain", "busybox", "sh", "-c", "sleep 60 & sleep 60")
	out := g.ok("stats", "--no-stream")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("stats output = %q", out)
	}
	fields := strings.Fields(lines[1])
	if len(fields) != 8 || fields[1] != "plain" || fields[5] != "--" || fields[6] != "--" || fields[7] != "2" {
		t.Errorf("stats row = %q, want no limit, no MEM %% and 2 processes", lines[1])
	}
	if stderr := g.fails(1, "stats", "--no-stream", "missing"); !strings.Contains(stderr, "no such container: missing") {
		t.Errorf("stats of a missing container: %q", stderr)
	}
}
