//go:build integration

package test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var containerIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// runDetached runs "gocker run -d ARGS..." and returns the printed id.
func (g *gocker) runDetached(t *testing.T, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(g.ok(append([]string{"run", "-d"}, args...)...))
	if !containerIDPattern.MatchString(id) {
		t.Fatalf("run -d printed %q, want a full container id", id)
	}
	return id
}

// field returns a container's value of an inspect template.
func (g *gocker) field(t *testing.T, ctr, format string) string {
	t.Helper()
	return strings.TrimSpace(g.ok("inspect", "--format", format, ctr))
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until the container's State.Status is want.
func (g *gocker) waitStatus(t *testing.T, ctr, want string) {
	t.Helper()
	waitUntil(t, 30*time.Second, ctr+" to be "+want, func() bool {
		return g.field(t, ctr, "{{.State.Status}}") == want
	})
}

// monitorsOf returns the pids of the detached monitors of the store at
// root: processes whose arguments are gocker-monitor ROOT ...
func monitorsOf(root string) []int {
	return pidsWhere(func(pid int) bool {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(cmdline), "\x00")
		return len(args) > 1 && args[0] == "gocker-monitor" && args[1] == root && processAlive(pid)
	})
}

// pidOf returns the host pid of a running container's process.
func (g *gocker) pidOf(t *testing.T, ctr string) int {
	t.Helper()
	pid, err := strconv.Atoi(g.field(t, ctr, "{{.State.Pid}}"))
	if err != nil || pid <= 0 {
		t.Fatalf("container %s has no pid: %v", ctr, err)
	}
	return pid
}

func TestDetachedLifecycle(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	testDetachedLifecycle(t, g)
}

func TestDetachedLifecycleAsRoot(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	testDetachedLifecycle(t, g)
}

// testDetachedLifecycle walks a detached container through run -d, ps,
// logs, exec, stop, start, inspect and rm -f.
func testDetachedLifecycle(t *testing.T, g *gocker) {
	script := `echo "run $(cat /proc/uptime)"; echo started >&2; while :; do sleep 0.1; done`
	id := g.runDetached(t, "--name", "web", "busybox", "sh", "-c", script)
	// run -d returns once the container runs.
	if got := g.field(t, "web", "{{.State.Status}} {{.State.Running}} {{.Id}}"); got != "running true "+id {
		t.Errorf("state after run -d = %q", got)
	}
	ps := g.ok("ps")
	if !strings.Contains(ps, id[:12]) || !strings.Contains(ps, "web") || !regexp.MustCompile(`Up (Less than a second|\d+ seconds?)`).MatchString(ps) {
		t.Errorf("ps = %q, want web with an Up status", ps)
	}
	if !strings.Contains(ps, `"sh -c echo "run $(…`) {
		t.Errorf("ps does not show the truncated command: %q", ps)
	}
	firstPid := g.pidOf(t, "web")
	waitUntil(t, 10*time.Second, "the first log line", func() bool {
		return strings.Contains(g.ok("logs", "web"), "run ")
	})
	if got := g.ok("exec", "web", "cat", "/etc/hostname"); got != id[:12]+"\n" {
		t.Errorf("exec cat /etc/hostname = %q, want the short id", got)
	}

	start := time.Now()
	if got := g.ok("stop", "-t", "1", "web"); got != "web\n" {
		t.Errorf("stop printed %q", got)
	}
	// sh as PID 1 has no handler for SIGTERM, so only SIGKILL ends it.
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("stop returned after %v, before its 1 s timeout", elapsed)
	}
	if got := g.field(t, "web", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}"); got != "exited 137 0" {
		t.Errorf("state after stop = %q, want exited 137 0", got)
	}
	waitGone(t, firstPid)
	if !regexp.MustCompile(`Exited \(137\) (Less than a second|\d+ seconds?) ago`).MatchString(g.ok("ps", "-a")) {
		t.Errorf("ps -a = %q, want Exited (137)", g.ok("ps", "-a"))
	}
	if out := g.ok("ps"); strings.Contains(out, "web") {
		t.Errorf("ps lists the stopped container: %q", out)
	}

	if got := g.ok("start", "web"); got != "web\n" {
		t.Errorf("start printed %q", got)
	}
	g.waitStatus(t, "web", "running")
	if pid := g.pidOf(t, "web"); pid == firstPid {
		t.Errorf("the restarted container has the old pid %d", pid)
	}
	// The log holds both runs, the upper directory survives the stop.
	g.ok("exec", "web", "sh", "-c", "echo kept > /kept")
	waitUntil(t, 10*time.Second, "the second run's output", func() bool {
		return strings.Count(g.ok("logs", "web"), "run ") == 2
	})
	res := g.try("logs", "web")
	if strings.Count(res.stderr, "started\n") != 2 || strings.Contains(res.stdout, "started") {
		t.Errorf("logs: stdout %q, stderr %q; want the stderr lines of both runs on stderr only", res.stdout, res.stderr)
	}
	g.ok("stop", "-t", "1", "web")
	g.ok("start", "web")
	if got := g.ok("exec", "web", "cat", "/kept"); got != "kept\n" {
		t.Errorf("a file written before stop and start = %q", got)
	}

	var inspect []map[string]any
	if err := json.Unmarshal([]byte(g.ok("inspect", "web")), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("inspect is not a JSON array of one object: %v", err)
	}
	if inspect[0]["Name"] != "/web" || inspect[0]["Id"] != id || inspect[0]["Path"] != "sh" {
		t.Errorf("inspect Name, Id, Path = %v, %v, %v", inspect[0]["Name"], inspect[0]["Id"], inspect[0]["Path"])
	}
	restartedPid := g.pidOf(t, "web")
	if got := g.ok("restart", "-t", "0", "web"); got != "web\n" {
		t.Errorf("restart printed %q", got)
	}
	lastPid := g.pidOf(t, "web")
	if lastPid == restartedPid || g.field(t, "web", "{{.State.Status}}") != "running" {
		t.Errorf("restart left pid %d (was %d), state %s", lastPid, restartedPid, g.field(t, "web", "{{.State.Status}}"))
	}
	waitGone(t, restartedPid)
	if got := g.ok("rm", "-f", "web"); got != "web\n" {
		t.Errorf("rm -f printed %q", got)
	}
	g.assertNothingLeft(t, []int{lastPid})
}

func TestDetachedImages(t *testing.T) {
	images := []struct {
		name   string
		create func(*gocker, *testing.T)
		ref    string
		want   string
	}{
		{"busybox", (*gocker).busybox, "busybox", "BusyBox"},
		{"alpine", (*gocker).alpine, "alpine", "ID=alpine"},
		{"debian", (*gocker).debian, "debian:bookworm", "ID=debian"},
	}
	for _, img := range images {
		t.Run(img.name, func(t *testing.T) {
			g := newRootless(t)
			img.create(g, t)
			g.runDetached(t, "--name", "box", img.ref, "sh", "-c", "echo up; exec sleep 1000")
			waitUntil(t, 10*time.Second, "the log line", func() bool { return g.ok("logs", "box") == "up\n" })
			out := g.ok("exec", "box", "sh", "-c", "cat /etc/os-release 2>/dev/null || busybox | head -1")
			if !strings.Contains(out, img.want) {
				t.Errorf("exec in %s = %q, want %q", img.name, out, img.want)
			}
			g.ok("stop", "-t", "1", "box")
			g.ok("start", "box")
			g.waitStatus(t, "box", "running")
			waitUntil(t, 10*time.Second, "the second run's log line", func() bool { return g.ok("logs", "box") == "up\nup\n" })
			pid := g.pidOf(t, "box")
			g.ok("rm", "-f", "box")
			g.assertNothingLeft(t, []int{pid})
		})
	}
}

func TestRunDetachedStartErrors(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"not found", []string{"--name", "nf", "busybox", "no-such-command"}, 127, "executable file not found"},
		{"not executable", []string{"--name", "nx", "busybox", "/etc"}, 126, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := g.try(append([]string{"run", "-d"}, tt.args...)...)
			if res.code != tt.code || res.stdout != "" || !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("want exit %d, no id and %q on stderr; got %s", tt.code, tt.stderr, res)
			}
			name := tt.args[1]
			if got := g.field(t, name, "{{.State.Status}} {{.State.ExitCode}}"); got != fmt.Sprintf("created %d", tt.code) {
				t.Errorf("state of the container that failed to start = %q", got)
			}
		})
	}
	// A gocker error (status 125) before the process ran removes the
	// container again.
	res := g.try("run", "-d", "--name", "nu", "-u", "ghost", "busybox", "true")
	if res.code != 125 || res.stdout != "" || !strings.Contains(res.stderr, "ghost") {
		t.Errorf("run -d -u ghost: want exit 125, no id and the user on stderr; got %s", res)
	}
	if res := g.try("inspect", "nu"); res.code == 0 {
		t.Errorf("run -d -u ghost left the container nu: %s", res.stdout)
	}
	// The monitor and gocker run both remove such a container; whichever
	// comes second finds it gone, which is no error.
	for range 8 {
		res = g.try("run", "-d", "--rm", "busybox", "no-such-command")
		if res.code != 127 || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("run -d --rm of a missing command: want exit 127 and one line on stderr, got %s", res)
		}
	}
	if n := len(g.lines(g.try("ps", "-aq"))); n != len(tests) {
		t.Errorf("%d containers after the failed starts, want %d (the --rm one removed)", n, len(tests))
	}
	for _, bad := range [][]string{
		{"--restart", "sometimes"},
		{"--restart", "always", "--rm"},
		{"--log-opt", "max-file=2"},
		{"--log-opt", "color=red"},
		{"--log-driver", "syslog"},
		{"--stop-signal", "NOPE"},
	} {
		stderr := g.fails(125, append(append([]string{"run", "-d"}, bad...), "busybox", "true")...)
		if !strings.Contains(stderr, bad[1]) && !strings.Contains(stderr, bad[0]) {
			t.Errorf("run -d %v: stderr %q does not name the bad value", bad, stderr)
		}
	}
	if n := len(g.lines(g.try("ps", "-aq"))); n != len(tests) {
		t.Errorf("invalid options left containers: %d, want %d", n, len(tests))
	}
	g.runDetached(t, "--rm", "--name", "gone", "busybox", "true")
	waitUntil(t, 10*time.Second, "the --rm container to be removed", func() bool {
		return g.try("inspect", "gone").code != 0
	})
}

func TestStopSignalsAndWait(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	trap := `trap "echo got %s; exit %d" %s; echo ready; while :; do sleep 0.05; done`
	g.runDetached(t, "--name", "term", "busybox", "sh", "-c", fmt.Sprintf(trap, "TERM", 3, "TERM"))
	g.runDetached(t, "--name", "usr1", "--stop-signal", "USR1", "busybox", "sh", "-c", fmt.Sprintf(trap, "USR1", 4, "USR1"))
	g.runDetached(t, "--name", "hup", "busybox", "sh", "-c", fmt.Sprintf(trap, "HUP", 5, "HUP"))
	for _, name := range []string{"term", "usr1", "hup"} {
		waitUntil(t, 10*time.Second, name+" to be ready", func() bool { return strings.Contains(g.ok("logs", name), "ready") })
	}

	waiter := startGocker(t, g, "wait", "term")
	start := time.Now()
	g.ok("stop", "term")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("stop of a container that handles SIGTERM took %v", elapsed)
	}
	if code := waiter.exitCode(t); code != 0 || waiter.stdout.String() != "3\n" {
		t.Errorf("wait: exit %d, printed %q; want 3", code, waiter.stdout.String())
	}

	g.ok("stop", "usr1")
	if got := g.ok("logs", "usr1"); got != "ready\ngot USR1\n" {
		t.Errorf("logs after stop with --stop-signal USR1 = %q", got)
	}
	if got := g.ok("kill", "-s", "HUP", "hup"); got != "hup\n" {
		t.Errorf("kill printed %q", got)
	}
	if got := g.ok("wait", "hup"); got != "5\n" {
		t.Errorf("wait after kill -s HUP printed %q, want 5", got)
	}
	if got := g.ok("wait", "term", "usr1"); got != "3\n4\n" {
		t.Errorf("wait of exited containers printed %q", got)
	}
	stderr := g.fails(1, "kill", "term")
	if !strings.Contains(stderr, "not running") {
		t.Errorf("kill of an exited container: %q", stderr)
	}
	g.fails(125, "kill", "-s", "NOSIG", "term")

	// stop of a stopped container does nothing, as in Docker.
	g.ok("stop", "term")

	// The image's STOPSIGNAL is the default stop signal.
	g.ok("init", "--change", "STOPSIGNAL SIGUSR2", g.busyboxRootfs(t), "usr2box")
	g.runDetached(t, "--name", "usr2", "usr2box", "sh", "-c", fmt.Sprintf(trap, "USR2", 6, "USR2"))
	waitUntil(t, 10*time.Second, "usr2 to be ready", func() bool { return strings.Contains(g.ok("logs", "usr2"), "ready") })
	g.ok("stop", "usr2")
	if got := g.field(t, "usr2", "{{.State.ExitCode}} {{.Config.StopSignal}}"); got != "6 SIGUSR2" {
		t.Errorf("exit code and stop signal after stop = %q, want 6 SIGUSR2", got)
	}

	g.runDetached(t, "--name", "sleeper", "busybox", "sleep", "1000")
	g.ok("kill", "sleeper")
	if got := g.ok("wait", "sleeper"); got != "137\n" {
		t.Errorf("wait after kill printed %q, want 137", got)
	}
}

func TestInspectFormat(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	dir, err := os.MkdirTemp(env.workDir, "inspect-")
	if err == nil {
		// The test user must reach the directory to bind-mount it.
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	g.runDetached(t, "--name", "ins", "-e", "A=1", "-v", dir+":/data:ro", "--restart", "on-failure:3",
		"--log-opt", "max-size=1m", "--network", "none", "--read-only", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
		"--dns", "192.0.2.53", "--add-host", "db:192.0.2.9", "--init", "busybox", "sleep", "1000")
	var inspect []struct {
		ID      string `json:"Id"`
		Name    string
		Created time.Time
		Path    string
		Args    []string
		State   struct {
			Status                     string
			Running, Paused, OOMKilled bool
			Pid, ExitCode              int
			StartedAt, FinishedAt      time.Time
		}
		Config struct {
			Env   []string
			Cmd   []string
			Image string
		}
		HostConfig struct {
			RestartPolicy struct {
				Name              string
				MaximumRetryCount int
			}
			LogConfig struct {
				Type   string
				Config map[string]string
			}
		}
		Mounts []struct {
			Source, Destination string
			RW                  bool
		}
		NetworkSettings map[string]any
	}

	if err := json.Unmarshal([]byte(g.ok("inspect", "ins")), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("inspect output: %v", err)
	}
	in := inspect[0]
	if in.Name != "/ins" || in.Path != "sleep" || len(in.Args) != 1 || in.Args[0] != "1000" {
		t.Errorf("Name, Path, Args = %q, %q, %q", in.Name, in.Path, in.Args)
	}
	if in.State.Status != "running" || !in.State.Running || in.State.Pid <= 0 || in.State.StartedAt.IsZero() || !in.State.FinishedAt.IsZero() {
		t.Errorf("State = %+v", in.State)
	}
	if time.Since(in.Created) > time.Minute || in.Config.Image != "busybox" {
		t.Errorf("Created %v, Config.Image %q", in.Created, in.Config.Image)
	}
	if in.HostConfig.RestartPolicy.Name != "on-failure" || in.HostConfig.RestartPolicy.MaximumRetryCount != 3 {
		t.Errorf("RestartPolicy = %+v", in.HostConfig.RestartPolicy)
	}
	if in.HostConfig.LogConfig.Type != "json-file" || in.HostConfig.LogConfig.Config["max-size"] != "1m" {
		t.Errorf("LogConfig = %+v", in.HostConfig.LogConfig)
	}
	if len(in.Mounts) != 1 || in.Mounts[0].Source != dir || in.Mounts[0].Destination != "/data" || in.Mounts[0].RW {
		t.Errorf("Mounts = %+v", in.Mounts)
	}
	if in.NetworkSettings == nil {
		t.Error("NetworkSettings is missing")
	}

	tests := map[string]string{
		"{{.State.Status}}":          "running",
		"{{json .Config.Cmd}}":       `["sleep","1000"]`,
		"{{.Name}} {{.Id}}":          "/ins " + in.ID,
		"{{.State.Pid}}":             strconv.Itoa(in.State.Pid),
		"{{join .Config.Cmd \"+\"}}": "sleep+1000",
		"{{upper .State.Status}}":    "RUNNING",
		"{{index .Config.Env 1}}":    "A=1",

		"{{json .HostConfig.Binds}}":        `["` + dir + `:/data:ro"]`,
		"{{.HostConfig.NetworkMode}}":       "none",
		"{{.HostConfig.ReadonlyRootfs}}":    "true",
		"{{json .HostConfig.CapAdd}}":       `["NET_ADMIN"]`,
		"{{json .HostConfig.CapDrop}}":      `["CHOWN"]`,
		"{{json .HostConfig.Dns}}":          `["192.0.2.53"]`,
		"{{json .HostConfig.ExtraHosts}}":   `["db:192.0.2.9"]`,
		"{{.HostConfig.Init}}":              "true",
		"{{.HostConfig.AutoRemove}}":        "false",
		"{{json .HostConfig.PortBindings}}": "{}",
		"{{.HostConfig.Memory}}":            "0",
		"{{.HostConfig.PidsLimit}}":         "<no value>",
	}
	for format, want := range tests {
		if got := g.field(t, "ins", format); got != want {
			t.Errorf("inspect -f %s = %q, want %q", format, got, want)
		}
	}
	res := g.try("inspect", "ins", "missing")
	if res.code != 1 || !strings.Contains(res.stderr, "missing") || !strings.Contains(res.stdout, `"/ins"`) {
		t.Errorf("inspect of one present and one missing container: %s", res)
	}
	g.fails(125, "inspect", "-f", "{{.Broken", "ins")
}

func TestTop(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.runDetached(t, "--name", "topped", "busybox", "sh", "-c", "sleep 1000 & wait")
	pid := g.pidOf(t, "topped")
	var out string
	waitUntil(t, 10*time.Second, "the child process", func() bool {
		out = g.ok("top", "topped")
		return strings.Count(out, "\n") == 3
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if fields := strings.Fields(lines[0]); strings.Join(fields, " ") != "UID PID PPID C STIME TTY TIME CMD" {
		t.Errorf("header = %q", lines[0])
	}
	if len(lines) != 3 {
		t.Fatalf("top listed %d processes, want 2:\n%s", len(lines)-1, out)
	}
	first := strings.Fields(lines[1])
	second := strings.Fields(lines[2])
	if first[0] != g.acct.name || first[1] != strconv.Itoa(pid) || strings.Join(first[7:], " ") != "sh -c sleep 1000 & wait" {
		t.Errorf("first row = %q, want %s, pid %d and the command", lines[1], g.acct.name, pid)
	}
	if second[2] != strconv.Itoa(pid) || second[5] != "?" || second[6] != "00:00:00" {
		t.Errorf("second row = %q, want PPID %d, no tty, no processor time", lines[2], pid)
	}
	g.ok("kill", "topped")
	g.ok("wait", "topped")
	g.fails(1, "top", "topped")
}

// gocker create makes a container that only gocker start runs; its options
// are those of run.
func TestCreateThenStart(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	id := strings.TrimSpace(g.ok("create", "--name", "later", "-e", "GREETING=hello", "busybox", "sh", "-c", "echo $GREETING; exit 3"))
	if !containerIDPattern.MatchString(id) {
		t.Fatalf("create printed %q, want a full container id", id)
	}
	if got := g.field(t, "later", "{{.Id}} {{.State.Status}} {{.State.Pid}}"); got != id+" created 0" {
		t.Errorf("after create: %q, want %s created 0", got, id)
	}
	if ps := g.ok("ps", "-a"); !regexp.MustCompile(`Created +later`).MatchString(ps) {
		t.Errorf("ps -a = %q, want later as Created", ps)
	}
	if ps := g.ok("ps", "-q"); ps != "" {
		t.Errorf("ps lists a created container as running: %q", ps)
	}
	res := g.try("start", "-a", "later")
	if res.code != 3 || res.stdout != "hello\n" {
		t.Errorf("start -a: exit %d, output %q; want 3 and hello", res.code, res.stdout)
	}
	if got := g.field(t, "later", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 3" {
		t.Errorf("after start: %q, want exited 3", got)
	}
	g.ok("rm", "later")

	// With --rm the container goes once it exits.
	g.ok("create", "--rm", "--name", "once", "busybox", "true")
	g.ok("start", "once")
	waitUntil(t, 10*time.Second, "the --rm container's removal", func() bool {
		return g.try("inspect", "once").code != 0
	})
	g.assertNothingLeft(t, nil)

	// Bad input: 125, and no container.
	g.ok("create", "--name", "taken", "busybox", "true")
	for _, args := range [][]string{
		{"create"},
		{"create", "-d", "busybox"},
		{"create", "--name", "taken", "busybox"},
		{"create", "--pull", "never", "missing-image:1"},
	} {
		g.fails(125, args...)
	}
	if got := g.ok("ps", "-a", "-q"); len(strings.Fields(got)) != 1 {
		t.Errorf("containers after the failed creates: %q, want only taken", got)
	}
	g.ok("rm", "taken")
	g.assertNothingLeft(t, nil)
}
