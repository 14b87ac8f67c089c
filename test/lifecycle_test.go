//go:build integration

package test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mountsUnder returns the host's mount points below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir) {
			found = append(found, fields[4])
		}
	}
	return found
}

// processesOf returns the pids of processes whose real uid is uid.
func processesOf(uid int) []int {
	return pidsWhere(func(pid int) bool {
		var st syscall.Stat_t
		return syscall.Stat(fmt.Sprintf("/proc/%d", pid), &st) == nil && int(st.Uid) == uid && processAlive(pid)
	})
}

// pidsWhere returns the pids in /proc for which keep reports true.
func pidsWhere(keep func(pid int) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && keep(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// assertNothingLeft checks that the store at g.root holds no container and
// that no monitor, no recorded container process, no mount and no lock of
// it is left.
func (g *gocker) assertNothingLeft(t *testing.T, pids []int) {
	t.Helper()
	waitUntil(t, 10*time.Second, "the monitors to exit", func() bool { return len(monitorsOf(g.root)) == 0 })
	for _, pid := range pids {
		waitGone(t, pid)
	}
	entries, err := os.ReadDir(filepath.Join(g.root, "containers"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "names" && e.Name() != "names.lock" {
			t.Errorf("left in the container store: %s", e.Name())
		}
	}
	names, _ := os.ReadDir(filepath.Join(g.root, "containers", "names"))
	if len(names) != 0 {
		t.Errorf("names left: %v", names)
	}
	if m := mountsUnder(t, g.root); len(m) != 0 {
		t.Errorf("mounts left on the host: %v", m)
	}
	if g.acct != nil {
		if pids := processesOf(g.acct.uid); len(pids) != 0 {
			t.Errorf("processes of %s left: %v", g.acct.name, pids)
		}
	}
}

func TestRmLeavesNothing(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.ok("run", "--name", "writer", "busybox", "sh", "-c",
		"mkdir -p /data/deep && echo x > /data/deep/f && chown -R 123:456 /data && chmod 000 /data/deep")
	out := g.ok("ps", "-a")
	if !strings.Contains(out, "Exited (0)") || !strings.Contains(out, "writer") {
		t.Errorf("ps -a = %q, want the exited container", out)
	}
	if got := g.ok("rm", "writer"); got != "writer\n" {
		t.Errorf("rm printed %q", got)
	}
	g.assertNothingLeft(t, nil)
	stderr := g.fails(1, "rm", "writer")
	if !strings.Contains(stderr, "no such container") {
		t.Errorf("rm of a removed container: %q", stderr)
	}
}

func TestRmRefusesRunningContainer(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	e, pid := startContainer(t, g, "--name", "busy", "busybox", "sleep", "1000")
	out := g.ok("ps")
	if !strings.Contains(out, "Up ") || !strings.Contains(out, "busy") {
		t.Errorf("ps = %q, want the running container", out)
	}
	stderr := g.fails(1, "rm", "busy")
	if !strings.Contains(stderr, "container is running") {
		t.Errorf("rm of a running container: %q", stderr)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := e.exitCode(t); code != 137 {
		t.Errorf("exit status %d, want 137", code)
	}
	if !strings.Contains(g.ok("ps", "-a"), "Exited (137)") {
		t.Errorf("ps -a does not show Exited (137)")
	}
	g.ok("rm", "busy")
}

func TestKilledGockerLeavesUsableStore(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	e, pid := startContainer(t, g, "--name", "orphan", "busybox", "sleep", "1000")
	// Kill the monitor once it has recorded the container as running.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(g.ok("ps"), "orphan") {
		if time.Now().After(deadline) {
			t.Fatal("the container is not listed as running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.exitCode(t)
	// The container dies with its monitor (PR_SET_PDEATHSIG).
	waitGone(t, pid)
	out := g.ok("ps", "-a")
	if !strings.Contains(out, "orphan") || !strings.Contains(out, "Exited (137)") {
		t.Errorf("ps -a after a killed gocker = %q, want orphan as Exited (137)", out)
	}
	if out := g.ok("ps"); strings.Contains(out, "orphan") {
		t.Errorf("ps lists a dead container as running: %q", out)
	}
	g.ok("rm", "orphan")
	g.ok("run", "--rm", "--name", "orphan", "busybox", "true")
	if m := mountsUnder(t, g.root); len(m) != 0 {
		t.Errorf("mounts left on the host: %v", m)
	}
}

func TestKilledImportLeavesNoImage(t *testing.T) {
	g := newRootless(t)
	path := debianTarball()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs the Debian tarball at %s: %v", path, err)
	}
	e := startGocker(t, g, "import", path, "half")
	time.Sleep(300 * time.Millisecond)
	if err := e.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.exitCode(t)
	// The helper extracting the layer dies with gocker.
	deadline := time.Now().Add(10 * time.Second)
	for len(processesOf(g.acct.uid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if out := strings.TrimSpace(g.ok("images", "-q")); out != "" {
		t.Errorf("a killed import left an image: %q", out)
	}
	entries, _ := os.ReadDir(filepath.Join(g.root, "layers"))
	for _, en := range entries {
		if !strings.HasPrefix(en.Name(), ".tmp-") {
			t.Errorf("a killed import left a layer that looks complete: %s", en.Name())
		}
	}
	// The next import succeeds and removes nothing it needs.
	g.busybox(t)
	g.ok("run", "--rm", "busybox", "true")
	g.ok("rmi", "busybox")
	entries, _ = os.ReadDir(filepath.Join(g.root, "layers"))
	if len(entries) != 0 {
		t.Errorf("rmi left %d entries in the layer store (leftovers of the killed import are removed then)", len(entries))
	}
}

// startGocker starts any gocker command in the background.
func startGocker(t *testing.T, g *gocker, args ...string) *execution {
	t.Helper()
	cmd := g.command(t.Context(), args...)
	e := &execution{cmd: cmd, cancel: func() {}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &e.stdout, &e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		e.err = cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-e.done
	})
	return e
}

func TestMissingSubordinateIDs(t *testing.T) {
	requireSetup(t)
	acct := lookupAccount(t, noSubIDUser)
	g := newGocker(t, &acct)
	stderr := g.fails(125, "init", g.busyboxRootfs(t), "busybox")
	for _, want := range []string{"no subordinate ids", noSubIDUser, "/etc/subuid", "sudo usermod --add-subuids"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, want)
		}
	}
	if out := strings.TrimSpace(g.ok("images", "-q")); out != "" {
		t.Errorf("images after the failure: %q", out)
	}
}
