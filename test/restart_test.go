//go:build integration

package test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRestartPolicies(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.runDetached(t, "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 3")
	g.runDetached(t, "--name", "fine", "--restart", "on-failure", "busybox", "sh", "-c", "echo run; exit 0")
	g.runDetached(t, "--name", "once", "busybox", "sh", "-c", "echo run; exit 1")
	// The retries come after 100 and 200 ms.
	waitUntil(t, 20*time.Second, "flaky to give up", func() bool {
		return g.field(t, "flaky", "{{.State.Status}} {{.RestartCount}}") == "exited 2"
	})
	if got := g.field(t, "flaky", "{{.State.ExitCode}}"); got != "3" {
		t.Errorf("exit code after the retries = %s, want 3", got)
	}
	if got := g.ok("logs", "flaky"); got != "run\nrun\nrun\n" {
		t.Errorf("logs of a container started three times = %q", got)
	}
	for _, name := range []string{"fine", "once"} {
		g.ok("wait", name)
		time.Sleep(300 * time.Millisecond)
		if got := g.field(t, name, "{{.State.Status}} {{.RestartCount}}"); got != "exited 0" {
			t.Errorf("%s: %q, want exited without restarts", name, got)
		}
	}

	g.runDetached(t, "--name", "always", "--restart", "always", "busybox", "sh", "-c", "echo run; sleep 0.3; exit 1")
	waitUntil(t, 20*time.Second, "three restarts", func() bool {
		n, _ := strconv.Atoi(g.field(t, "always", "{{.RestartCount}}"))
		return n >= 3
	})
	ps := g.ok("ps")
	if !regexp.MustCompile(`(Up|Restarting \(1\)) .*always`).MatchString(ps) {
		t.Errorf("ps = %q, want always as Up or Restarting (1)", ps)
	}
	g.ok("stop", "always")
	count := g.field(t, "always", "{{.RestartCount}}")
	time.Sleep(time.Second)
	if got := g.field(t, "always", "{{.State.Status}} {{.RestartCount}}"); got != "exited "+count {
		t.Errorf("after stop: %q, want exited with the restart count %s kept", got, count)
	}
	if len(monitorsOf(g.root)) != 0 {
		t.Errorf("monitors still run after the stop: %v", monitorsOf(g.root))
	}
	// start begins the policy anew.
	g.ok("start", "always")
	waitUntil(t, 20*time.Second, "a restart after start", func() bool {
		return g.field(t, "always", "{{.RestartCount}}") == "1"
	})
	g.ok("rm", "-f", "always", "flaky", "fine", "once")
	g.assertNothingLeft(t, nil)
}

// gocker restart of a container run with --rm starts it again, as Docker
// does, and its next stop removes it.
func TestRestartRmContainer(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	id := strings.TrimSpace(g.ok("run", "-d", "--rm", "--name", "brief", "busybox", "sh", "-c", "echo run; sleep 60"))
	firstPid := g.field(t, "brief", "{{.State.Pid}}")
	if got := g.ok("restart", "-t", "0", "brief"); got != "brief\n" {
		t.Errorf("restart printed %q", got)
	}
	if got := g.field(t, "brief", "{{.Id}} {{.State.Status}}"); got != id+" running" {
		t.Errorf("after restart: %q, want %s running", got, id)
	}
	if pid := g.field(t, "brief", "{{.State.Pid}}"); pid == firstPid {
		t.Errorf("pid %s unchanged by the restart", pid)
	}
	waitUntil(t, 10*time.Second, "the second start's output in the log", func() bool {
		return g.ok("logs", "brief") == "run\nrun\n"
	})
	g.ok("stop", "-t", "0", "brief")
	g.assertNothingLeft(t, nil)
}

// gocker wait on a container run with --rm prints its exit status, which
// the removal must not take with it.
func TestWaitRmContainer(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	// The removal races with wait's reads, so try several times.
	for i := 0; i < 8; i++ {
		id := strings.TrimSpace(g.ok("run", "-d", "--rm", "busybox", "sh", "-c", "sleep 0.3; exit 6"))
		if got := g.ok("wait", id); got != "6\n" {
			t.Errorf("wait printed %q, want 6", got)
		}
	}
	g.assertNothingLeft(t, nil)
}

// gocker restart of a foreground run --rm ends that run, as the stop
// does, and starts the container again with a detached monitor.
func TestRestartForegroundRmContainer(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fg := g.command(ctx, "run", "--rm", "--name", "fg", "busybox", "sleep", "60")
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the foreground container to run", func() bool {
		res := g.try("inspect", "--format", "{{.State.Status}}", "fg")
		return res.code == 0 && strings.TrimSpace(res.stdout) == "running"
	})
	id := g.field(t, "fg", "{{.Id}}")
	if got := g.ok("restart", "-t", "0", "fg"); got != "fg\n" {
		t.Errorf("restart printed %q", got)
	}
	var exitErr *exec.ExitError
	if err := fg.Wait(); !errors.As(err, &exitErr) || exitErr.ExitCode() != 137 {
		t.Errorf("foreground run ended with %v, want exit 137", err)
	}
	if got := g.field(t, "fg", "{{.Id}} {{.State.Status}}"); got != id+" running" {
		t.Errorf("after restart: %q, want %s running", got, id)
	}
	g.ok("stop", "-t", "0", "fg")
	g.assertNothingLeft(t, nil)
}

func TestStartAttach(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	if res := g.try("run", "--name", "att", "busybox", "sh", "-c", "echo out; echo err >&2; exit 4"); res.code != 4 {
		t.Fatalf("run: %s", res)
	}
	res := g.try("start", "-a", "att")
	if res.code != 4 || res.stdout != "out\n" || res.stderr != "err\n" {
		t.Errorf("start -a: %s", res)
	}
	// The log holds the foreground run and the attached one.
	res = g.try("logs", "att")
	if res.stdout != "out\nout\n" || res.stderr != "err\nerr\n" {
		t.Errorf("logs after run and start -a: %s", res)
	}

	g.ok("run", "-d", "-i", "--name", "cat", "busybox", "sh", "-c", "cat; exit 6")
	g.ok("stop", "-t", "1", "cat")
	res = g.tryInput("through the monitor\n", "start", "-ai", "cat")
	if res.code != 6 || res.stdout != "through the monitor\n" {
		t.Errorf("start -ai: %s", res)
	}
	if got := g.ok("logs", "cat"); got != "through the monitor\n" {
		t.Errorf("logs after start -ai = %q", got)
	}

	// A restart policy needs the monitor, so run without -d attaches to
	// the first run through it.
	res = g.tryInput("piped\n", "run", "-i", "--name", "pol", "--restart", "on-failure:1", "busybox", "sh", "-c", "cat; exit 2")
	if res.code != 2 || res.stdout != "piped\n" {
		t.Errorf("run --restart without -d: %s", res)
	}
	waitUntil(t, 10*time.Second, "the restart", func() bool { return g.field(t, "pol", "{{.RestartCount}}") == "1" })
	g.fails(125, "start", "-a", "att", "cat")
}

func TestInitForwardsAndReaps(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	// The shell exits at once and leaves its child to PID 1; the child
	// exits a moment later and must be reaped.
	g.runDetached(t, "--name", "reaper", "--init", "busybox", "sh", "-c", "(sleep 0.2 &) ; exec sleep 1000")
	time.Sleep(700 * time.Millisecond)
	out := g.ok("exec", "reaper", "ps", "-o", "pid,stat,args")
	if strings.Contains(out, " Z ") || !strings.Contains(out, "gocker-init") {
		t.Errorf("ps in a container with --init = %q, want gocker-init as PID 1 and no zombie", out)
	}
	start := time.Now()
	g.ok("stop", "reaper")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("stop with --init took %v: the init did not pass SIGTERM on", elapsed)
	}
	if got := g.field(t, "reaper", "{{.State.ExitCode}}"); got != "143" {
		t.Errorf("exit code = %s, want 143 (SIGTERM)", got)
	}
	res := g.try("run", "--rm", "--init", "busybox", "sh", "-c", "exit 9")
	if res.code != 9 {
		t.Errorf("run --init of a command that exits 9: %s", res)
	}
	res = g.try("run", "--rm", "--init", "busybox", "no-such-command")
	if res.code != 127 {
		t.Errorf("run --init of a missing command: %s", res)
	}
}

func TestMonitorKilled(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.runDetached(t, "--name", "orphan", "busybox", "sleep", "1000")
	pid := g.pidOf(t, "orphan")
	monitors := monitorsOf(g.root)
	if len(monitors) != 1 {
		t.Fatalf("monitors of the store: %v, want one", monitors)
	}
	if err := syscall.Kill(monitors[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	// The container dies with its monitor (PR_SET_PDEATHSIG).
	waitGone(t, pid)
	out := g.ok("ps", "-a")
	if !regexp.MustCompile(`Exited \(137\) .* ago\s+orphan`).MatchString(out) {
		t.Errorf("ps -a after the monitor was killed = %q", out)
	}
	if out := g.ok("ps"); strings.Contains(out, "orphan") {
		t.Errorf("ps lists the dead container as running: %q", out)
	}
	if got := g.field(t, "orphan", "{{.State.Status}} {{.State.Running}} {{.State.Pid}}"); got != "exited false 0" {
		t.Errorf("inspect after the monitor was killed: %q", got)
	}

	// No stale lock: the container starts again, and rm -f cleans up.
	g.ok("start", "orphan")
	g.ok("exec", "orphan", "true")
	newPid := g.pidOf(t, "orphan")
	for _, m := range monitorsOf(g.root) {
		if err := syscall.Kill(m, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	waitGone(t, newPid)
	g.ok("rm", "-f", "orphan")
	g.assertNothingLeft(t, []int{pid, newPid})
}

func TestMonitorKilledFinishedAt(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.runDetached(t, "--name", "orphan", "busybox", "sleep", "1000")
	g.ok("restart", "-t", "0", "orphan")
	pid := g.pidOf(t, "orphan")
	monitors := monitorsOf(g.root)
	if len(monitors) != 1 {
		t.Fatalf("monitors of the store: %v, want one", monitors)
	}
	if err := syscall.Kill(monitors[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)

	// inspect's templates see the JSON document, so the times are
	// RFC 3339 strings.
	const format = "{{.State.Status}} {{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}"
	fields := strings.Fields(g.field(t, "orphan", format))
	if len(fields) != 4 {
		t.Fatalf("inspect after the monitor was killed = %q", fields)
	}
	if fields[0] != "exited" || fields[1] != "137" {
		t.Errorf("status and exit code = %s %s, want exited 137", fields[0], fields[1])
	}
	started, err := time.Parse(time.RFC3339Nano, fields[2])
	if err != nil {
		t.Fatal(err)
	}
	finished, err := time.Parse(time.RFC3339Nano, fields[3])
	if err != nil {
		t.Fatal(err)
	}
	if finished.Before(started) {
		t.Errorf("FinishedAt %v is before StartedAt %v", finished, started)
	}
	if age := time.Since(finished); age < 0 || age > 5*time.Second {
		t.Errorf("FinishedAt %v is %v before now, want within 5 s", finished, age)
	}

	time.Sleep(1100 * time.Millisecond)
	if again := strings.Fields(g.field(t, "orphan", format)); len(again) != 4 || again[3] != fields[3] {
		t.Errorf("FinishedAt of a second inspect = %q, want %s from the first", again, fields[3])
	}
	out := g.ok("ps", "-a")
	if !regexp.MustCompile(`Exited \(137\) (Less than a second|[1-5] seconds?) ago\s+orphan`).MatchString(out) {
		t.Errorf("ps -a after the monitor was killed = %q, want Exited (137) a few seconds ago", out)
	}
	g.ok("rm", "orphan")
	g.assertNothingLeft(t, []int{pid})
}

func TestTwentyDetachedContainers(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	const n = 20
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			script := fmt.Sprintf("echo out-%d; echo err-%d >&2; exec sleep 1000", i, i)
			results[i] = g.try("run", "-d", "--name", fmt.Sprintf("c%02d", i), "busybox", "sh", "-c", script)
		}()
	}
	wg.Wait()

	var names []string
	var pids []int
	for i, res := range results {
		if res.code != 0 || !containerIDPattern.MatchString(strings.TrimSpace(res.stdout)) {
			t.Fatalf("run -d %d: %s", i, res)
		}
		name := fmt.Sprintf("c%02d", i)
		names = append(names, name)
		pids = append(pids, g.pidOf(t, name))
	}

	ps := g.ok("ps")
	for _, name := range names {
		if !regexp.MustCompile(`Up .*\b` + name + `\n`).MatchString(ps) {
			t.Errorf("ps does not list %s as Up", name)
		}
	}
	if got := len(monitorsOf(g.root)); got != n {
		t.Errorf("%d monitors run, want %d", got, n)
	}
	for i, name := range names {
		waitUntil(t, 10*time.Second, name+"'s log", func() bool {
			res := g.try("logs", name)
			return res.stdout == fmt.Sprintf("out-%d\n", i) && res.stderr == fmt.Sprintf("err-%d\n", i)
		})
	}

	out := g.ok(append([]string{"rm", "-f"}, names...)...)
	if got := strings.Fields(out); len(got) != n {
		t.Errorf("rm -f printed %q", out)
	}
	g.assertNothingLeft(t, pids)
}
