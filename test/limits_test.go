//go:build integration

package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gocker/gocker/cgroupv2"
)

// requireCgroupV1Root skips unless the test runs as root on a host whose
// cgroup v1 hierarchies gocker uses (hybrid or legacy mode).
func requireCgroupV1Root(t *testing.T) {
	t.Helper()
	requireRoot(t)
	mode, err := cgroupv2.DetectMode()
	if err != nil || (mode != cgroupv2.ModeHybrid && mode != cgroupv2.ModeLegacy) {
		t.Skipf("needs cgroup v1 hierarchies (hybrid or legacy mode), this host has %v mode: the systemd guest (make test-vm) covers cgroup v2", mode)
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

// v1CgroupDirs returns the cgroup directories named gocker-ID under the
// test's own cgroup of each v1 hierarchy: where gocker creates them.
func v1CgroupDirs(t *testing.T, id string) []string {
	t.Helper()
	entries, err := cgroupv2.ReadProcCgroup()
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, c := range []string{"memory", "cpu", "cpuacct", "pids", "cpuset"} {
		own, ok := cgroupv2.V1Path(entries, c)
		if !ok {
			continue
		}
		dirs = append(dirs, filepath.Join(cgroupv2.Root, c, own, "gocker-"+id))
	}
	return dirs
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
		{[]string{"--cpus", "4096"}, "invalid --cpus 4096.00: this host has"},
		{[]string{"--cpu-shares", "1"}, "invalid --cpu-shares 1: use 2 to 262144"},
		{[]string{"--cpu-shares", "many"}, `invalid value "many" for flag -cpu-shares`},
		{[]string{"--cpuset-cpus", "0-9999"}, `invalid --cpuset-cpus "0-9999"`},
		{[]string{"--pids-limit", "-7"}, "invalid --pids-limit -7"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append(append([]string{"run", "--rm"}, tt.args...), "busybox", "true")
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
	stderr := g.fails(125, "run", "--rm", "--memory", "64m", "--pids-limit", "10", "busybox", "true")
	for _, want := range []string{"cannot enforce --memory and --pids-limit", "cgroup v1", "systemd.unified_cgroup_hierarchy=1"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, want)
		}
	}
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("a limit that cannot be enforced left containers behind: %v", ids)
	}
	// Without limits the same user runs containers on this host.
	if out := g.ok("run", "--rm", "busybox", "echo", "fine"); out != "fine\n" {
		t.Errorf("run without limits = %q", out)
	}
}

func TestRunCgroupNamespace(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	out := g.ok("run", "--rm", "busybox", "cat", "/proc/self/cgroup")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("/proc/self/cgroup line %q is not the namespace's root", line)
		}
	}
	mounts := g.ok("run", "--rm", "busybox", "grep", " /sys/fs/cgroup", "/proc/self/mounts")
	if !strings.Contains(mounts, "/sys/fs/cgroup ") || !strings.Contains(mounts, " ro,") {
		t.Errorf("/sys/fs/cgroup is not mounted read-only: %q", mounts)
	}
}

func TestRunLimitsCgroupV1(t *testing.T) {
	requireCgroupV1Root(t)
	g := newRootful(t)
	g.busybox(t)
	script := `cat /proc/self/cgroup | grep -c ':/$'
cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares
cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpuset/cpuset.cpus
touch /sys/fs/cgroup/memory/x 2>/dev/null && echo writable || echo read-only`
	out := g.ok("run", "--memory", "64m", "--memory-swap", "96m", "--cpus", "0.5", "--cpu-shares", "512",
		"--pids-limit", "32", "--cpuset-cpus", "0", "busybox", "sh", "-c", script)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	entries, _ := cgroupv2.ReadProcCgroup()
	want := []string{strconv.Itoa(len(entries)), "67108864", "100663296", "50000", "100000", "512", "32", "0", "read-only"}
	if strings.Join(lines, " ") != strings.Join(want, " ") {
		t.Errorf("inside the container:\n got %q\nwant %q", lines, want)
	}
	id, state := g.state(t)
	if state["OOMKilled"] != false {
		t.Errorf("OOMKilled = %v after a normal exit", state["OOMKilled"])
	}
	for _, dir := range v1CgroupDirs(t, id) {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s still exists after the container exited", dir)
		}
	}
}

func TestRunOOMKilledCgroupV1(t *testing.T) {
	requireCgroupV1Root(t)
	g := newRootful(t)
	g.busybox(t)
	// tail buffers /dev/zero, which has no newline, until the limit.
	res := g.try("run", "--memory", "32m", "--memory-swap", "32m", "busybox", "tail", "/dev/zero")
	if res.code != 137 {
		t.Fatalf("want exit 137, got %s", res)
	}
	id, state := g.state(t)
	if state["OOMKilled"] != true || state["ExitCode"] != float64(137) {
		t.Errorf("state = %v, want OOMKilled true and ExitCode 137", state)
	}
	for _, dir := range v1CgroupDirs(t, id) {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s still exists after the container exited", dir)
		}
	}
}

func TestRunKilledNotOOMKilled(t *testing.T) {
	requireCgroupV1Root(t)
	g := newRootful(t)
	g.busybox(t)
	e, pid := startContainer(t, g, "--memory", "32m", "busybox", "sleep", "1000")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := e.exitCode(t); code != 137 {
		t.Fatalf("exit status after SIGKILL = %d, want 137", code)
	}
	if _, state := g.state(t); state["OOMKilled"] != false {
		t.Errorf("OOMKilled = %v after a plain SIGKILL, want false", state["OOMKilled"])
	}
}

func TestRunPidsLimitCgroupV1(t *testing.T) {
	requireCgroupV1Root(t)
	g := newRootful(t)
	g.busybox(t)
	// A bounded fork bomb: an inner shell starts 100 background sleeps
	// against a limit of 16 tasks, and dies when a fork fails. The outer
	// shell then reads the counters with builtins, as no fork is left.
	script := `sh -c 'i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null
read current < /sys/fs/cgroup/pids/pids.current; read events < /sys/fs/cgroup/pids/pids.events; echo $current $events`
	out := g.ok("run", "--pids-limit", "16", "busybox", "sh", "-c", script)
	checkPidsCapped(t, out, 16)
}

// checkPidsCapped checks "CURRENT max FAILED-FORKS", as the fork bomb
// script prints it.
func checkPidsCapped(t *testing.T, out string, limit int) {
	t.Helper()
	fields := strings.Fields(out)
	if len(fields) != 3 || fields[1] != "max" {
		t.Fatalf("pids.current and pids.events = %q", out)
	}
	current, _ := strconv.Atoi(fields[0])
	failed, _ := strconv.Atoi(fields[2])
	if current > limit || current < limit-3 {
		t.Errorf("pids.current = %d after the fork bomb, want just below the limit %d", current, limit)
	}
	if failed == 0 {
		t.Errorf("pids.events counts no failed fork: %q", out)
	}
}

func TestRunCPUQuotaCgroupV1(t *testing.T) {
	requireCgroupV1Root(t)
	g := newRootful(t)
	g.busybox(t)
	// A busy loop for one second of wall time may use at most a quarter
	// of a CPU second under --cpus 0.25; cpuacct.usage counts it in ns.
	script := `timeout 1 sh -c 'while :; do :; done'; cat /sys/fs/cgroup/cpuacct/cpuacct.usage`
	out := g.ok("run", "--cpus", "0.25", "busybox", "sh", "-c", script)
	usage, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("cpuacct.usage = %q", out)
	}
	// The CFS period is 100ms, so a one-second window may hold one
	// period's quota more than a quarter.
	if usage > 350e6 {
		t.Errorf("a busy loop used %.2fs of CPU in 1s under --cpus 0.25", float64(usage)/1e9)
	}
}

func TestStatsCgroupV1(t *testing.T) {
	requireCgroupV1Root(t)
	g := newRootful(t)
	g.busybox(t)
	startContainer(t, g, "--name", "limited", "--memory", "64m", "--pids-limit", "20", "busybox", "sh", "-c", "sleep 60 & sleep 60")
	out := g.ok("stats", "--no-stream", "limited")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "CONTAINER ID") {
		t.Fatalf("stats output = %q", out)
	}
	fields := strings.Fields(lines[1])
	// ID NAME CPU% USAGE / LIMIT MEM% PIDS
	if len(fields) != 8 || fields[1] != "limited" || fields[5] != "64MiB" || fields[7] != "2" {
		t.Errorf("stats row = %q, want the name, a 64MiB limit and 2 processes", lines[1])
	}
}

func TestStatsWithoutCgroup(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	startContainer(t, g, "--name", "plain", "busybox", "sh", "-c", "sleep 60 & sleep 60")
	out := g.ok("stats", "--no-stream")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("stats output = %q", out)
	}
	fields := strings.Fields(lines[1])
	if len(fields) != 8 || fields[1] != "plain" || fields[5] != "--" || fields[6] != "--" || fields[7] != "2" {
		t.Errorf("stats row = %q, want no limit, no MEM %% and 2 processes", lines[1])
	}
	if stderr := g.fails(125, "stats", "--no-stream", "missing"); !strings.Contains(stderr, "no such container: missing") {
		t.Errorf("stats of a missing container: %q", stderr)
	}
}
