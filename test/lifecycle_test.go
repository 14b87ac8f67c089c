//go:build integration

package test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
		if e.Name() != "names" && e.Name() != "names.lock" && e.Name() != "exits" {
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
		// A helper of a killed monitor (slirp4netns, the port driver)
		// notices the end of its container by itself, so it may take a
		// moment to exit. One that stays is a leak.
		var pids []int
		deadline := time.Now().Add(5 * time.Second)
		for pids = processesOf(g.acct.uid); len(pids) != 0 && time.Now().Before(deadline); pids = processesOf(g.acct.uid) {
			time.Sleep(20 * time.Millisecond)
		}
		if len(pids) != 0 {
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

// rootOverlayOptions returns the super options of the overlay mounted at
// "/" in the mountinfo text of a container.
func rootOverlayOptions(t *testing.T, mountinfo string) string {
	t.Helper()
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if len(fields) > 4 && fields[4] == "/" && sep > 0 && len(fields) > sep+3 && fields[sep+1] == "overlay" {
			return fields[sep+3]
		}
	}
	t.Fatalf("no overlay at / in mountinfo:\n%s", mountinfo)
	return ""
}

// A container that is removed when it exits has a volatile overlay, whose
// unmount does not flush the store's filesystem; one that stays has not.
// Both leave nothing behind once removed, although the kernel leaves a
// marker directory of mode 0 in a volatile overlay's work directory.
func TestRmContainerHasVolatileOverlay(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	opts := rootOverlayOptions(t, g.ok("run", "--rm", "busybox", "cat", "/proc/self/mountinfo"))
	if !strings.Contains(opts, "volatile") {
		t.Errorf("overlay of a --rm container: %q, want volatile", opts)
	}
	g.assertNothingLeft(t, nil)

	opts = rootOverlayOptions(t, g.ok("run", "--name", "kept", "busybox", "cat", "/proc/self/mountinfo"))
	if strings.Contains(opts, "volatile") {
		t.Errorf("overlay of a container without --rm: %q, want no volatile", opts)
	}
	g.ok("start", "kept")
	g.ok("rm", "kept")
	g.assertNothingLeft(t, nil)

	// Removed while it runs: its overlay is still mounted when rm -f
	// stops it, and the marker is in the work directory afterwards.
	id := strings.TrimSpace(g.ok("run", "-d", "--rm", "--name", "detached", "busybox", "sleep", "60"))
	marker := filepath.Join(g.root, "containers", id, "work", "work", "incompat", "volatile")
	if _, err := os.Lstat(marker); err != nil {
		t.Errorf("volatile marker of the running container: %v", err)
	}
	g.ok("rm", "-f", "detached")
	g.assertNothingLeft(t, nil)
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

// container prune, image prune and system prune remove what Docker's do,
// after a question that only a yes answers, and keep what runs or is used.
func TestPrune(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.ok("run", "--name", "stopped", "busybox", "sh", "-c", "head -c 50000 /dev/zero > /blob")
	g.ok("create", "--name", "created", "busybox", "true")
	running := strings.TrimSpace(g.ok("run", "-d", "--name", "running", "busybox", "sleep", "60"))
	stopped := g.field(t, "stopped", "{{.Id}}")
	created := g.field(t, "created", "{{.Id}}")
	// The second commit to the same tag leaves the first image dangling.
	dangling := strings.TrimSpace(g.ok("commit", "stopped", "snap:1"))
	g.ok("commit", "stopped", "snap:1")

	for _, answer := range []string{"", "n\n", "no\n"} {
		res := g.tryInput(answer, "container", "prune")
		if res.code != 0 || !strings.Contains(res.stdout, "Are you sure you want to continue? [y/N]") || strings.Contains(res.stdout, "Deleted") {
			t.Errorf("container prune answered %q: exit %d, output %q", answer, res.code, res.stdout)
		}
	}
	if got := len(strings.Fields(g.ok("ps", "-a", "-q"))); got != 3 {
		t.Fatalf("%d containers after declined prunes, want 3", got)
	}
	// A name whose container is gone, as a killed gocker leaves one.
	ghost := filepath.Join(g.root, "containers", "names", "ghost")
	if err := os.Symlink(strings.Repeat("0", 64), ghost); err != nil {
		t.Fatal(err)
	}
	res := g.tryInput("y\n", "container", "prune")
	if res.code != 0 {
		t.Fatalf("container prune: exit %d: %s", res.code, res.stderr)
	}
	if _, err := os.Lstat(ghost); err == nil {
		t.Error("container prune left the name of a container that does not exist")
	}
	for _, id := range []string{stopped, created} {
		if !strings.Contains(res.stdout, "\n"+id+"\n") {
			t.Errorf("container prune output %q lacks %s", res.stdout, id)
		}
	}
	if !regexp.MustCompile(`Total reclaimed space: [0-9.]+kB\n$`).MatchString(res.stdout) {
		t.Errorf("container prune output %q, want the 50 kB written", res.stdout)
	}
	if got := strings.Fields(g.ok("ps", "-a", "-q", "--no-trunc")); len(got) != 1 || got[0] != running {
		t.Errorf("containers after prune: %v, want only the running one", got)
	}

	out := g.ok("image", "prune", "-f")
	if !strings.Contains(out, "deleted: "+dangling+"\n") || strings.Contains(out, "untagged") {
		t.Errorf("image prune output %q, want the dangling %s deleted and nothing untagged", out, dangling)
	}
	if images := g.ok("images"); !regexp.MustCompile(`(?m)^snap +1 `).MatchString(images) || !regexp.MustCompile(`(?m)^busybox +latest `).MatchString(images) || strings.Contains(images, "<none>") {
		t.Errorf("images after image prune:\n%s", images)
	}

	// The running container keeps its image through system prune -a.
	out = g.ok("system", "prune", "-a", "-f")
	if !strings.Contains(out, "untagged: snap:1\n") || strings.Contains(out, "untagged: busybox") {
		t.Errorf("system prune -a output %q, want snap:1 removed and busybox kept", out)
	}
	g.ok("rm", "-f", "running")
	out = g.ok("system", "prune", "--all", "--force")
	if !strings.Contains(out, "untagged: busybox:latest\n") {
		t.Errorf("system prune -a output %q, want busybox removed", out)
	}
	if images := g.ok("images", "-q"); images != "" {
		t.Errorf("images left: %q", images)
	}
	layers, err := os.ReadDir(filepath.Join(g.root, "layers"))
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 0 {
		t.Errorf("layers left: %v", layers)
	}
	g.assertNothingLeft(t, nil)

	for _, args := range [][]string{{"container", "prune", "x"}, {"image", "prune", "x"}, {"system", "prune", "-f", "x"}} {
		g.fails(125, args...)
	}
}

// rename moves a container, running or stopped, to a free name and frees
// the old one.
func TestRename(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	id := strings.TrimSpace(g.ok("run", "-d", "--name", "first", "busybox", "sleep", "60"))
	g.ok("run", "--name", "other", "busybox", "true")
	if out := g.ok("rename", "first", "second"); out != "" {
		t.Errorf("rename printed %q", out)
	}
	if got := g.field(t, "second", "{{.Id}} {{.Name}} {{.State.Status}}"); got != id+" /second running" {
		t.Errorf("after rename: %q", got)
	}
	if !strings.Contains(g.fails(1, "inspect", "first"), "no such container") {
		t.Error("the old name still finds the container")
	}

	// The old name is free again.
	g.ok("run", "--name", "first", "busybox", "true")
	for _, args := range [][]string{
		{"rename", "second", "other"},
		{"rename", "second", "bad/name"},
		{"rename", "second", "second"},
		{"rename", "second"},
	} {
		g.fails(125, args...)
	}
	g.fails(1, "rename", "missing", "x")
	if got := g.field(t, "second", "{{.Name}}"); got != "/second" {
		t.Errorf("after failed renames: %q", got)
	}

	g.ok("stop", "-t", "0", "second")
	g.ok("rename", "second", "/third")
	if got := g.field(t, "third", "{{.Name}}"); got != "/third" {
		t.Errorf("renamed to /third: %q", got)
	}
	g.ok("start", "third")
	g.ok("rm", "-f", "third", "first", "other")
	g.assertNothingLeft(t, nil)
}

// A --rm container renamed while it runs leaves no name behind: its
// monitor, or the foreground run, removes the record under the new name.
func TestRenameAutoRemove(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.ok("run", "-d", "--rm", "--name", "detached", "busybox", "sleep", "60")
	g.ok("rename", "detached", "renamed")
	g.ok("stop", "-t", "0", "renamed")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fg := g.command(ctx, "run", "--rm", "--name", "foreground", "busybox", "sleep", "60")
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the foreground container to run", func() bool {
		return g.try("inspect", "-f", "{{.State.Status}}", "foreground").stdout == "running\n"
	})
	g.ok("rename", "foreground", "moved")
	g.ok("kill", "moved")
	if err := fg.Wait(); err == nil {
		t.Error("gocker run of the killed container exited 0")
	}
	g.assertNothingLeft(t, nil)
}

// A missing container or image, or exec in a stopped container, exits 1,
// as Docker's client does. run and create exit 125 for a missing image, as
// docker run does.
func TestMissingObjectExitCodes(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	for _, args := range [][]string{
		{"logs", "nobody"}, {"exec", "nobody", "true"}, {"top", "nobody"}, {"port", "nobody"},
		{"commit", "nobody", "x:1"}, {"stats", "--no-stream", "nobody"}, {"inspect", "nobody"},
		{"tag", "no-image:1", "x:1"}, {"save", "-o", os.DevNull, "no-image:1"}, {"history", "no-image:1"},
		{"push", "no-image:1"},
	} {
		stderr := g.fails(1, args...)
		if !strings.Contains(stderr, "no such") {
			t.Errorf("gocker %v: %q, want it to say what is missing", args, stderr)
		}
	}
	for _, cmd := range []string{"run", "create"} {
		stderr := g.fails(125, cmd, "--pull", "never", "--network", "none", "no-image:1")
		if !strings.Contains(stderr, "no such image: no-image:1") {
			t.Errorf("%s of a missing image: %q", cmd, stderr)
		}
	}
	g.ok("run", "--name", "stopped", "busybox", "true")
	g.fails(1, "exec", "stopped", "true")
	g.ok("rm", "stopped")
}

// inspect finds an image when no container has the name, as Docker's does.
func TestInspectFallsBackToImage(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	want := strings.TrimSpace(g.ok("image", "inspect", "-f", "{{.Id}}", "busybox"))
	if got := strings.TrimSpace(g.ok("inspect", "-f", "{{.Id}}", "busybox")); got != want {
		t.Errorf("inspect of an image: %q, want %q", got, want)
	}
	if got := strings.TrimSpace(g.ok("inspect", "--type", "image", "-f", "{{.Id}}", "busybox")); got != want {
		t.Errorf("inspect --type image: %q, want %q", got, want)
	}
	// A container of the same name wins.
	g.ok("run", "--name", "busybox", "busybox", "true")
	if got := g.field(t, "busybox", "{{.Name}}"); got != "/busybox" {
		t.Errorf("inspect of a name that a container and an image have: %q", got)
	}
	g.ok("rm", "busybox")
	g.fails(1, "inspect", "--type", "container", "busybox")
	if stderr := g.fails(1, "inspect", "nothing-by-this-name"); !strings.Contains(stderr, "no such container or image: nothing-by-this-name") {
		t.Errorf("inspect of nothing: %q", stderr)
	}
	g.fails(125, "inspect", "--type", "volume", "busybox")
}
