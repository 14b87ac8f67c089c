//go:build integration

package test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRunAlpineOSRelease(t *testing.T) {
	g := newRootless(t)
	g.alpine(t)
	out := g.ok("run", "--rm", "alpine", "cat", "/etc/os-release")
	if !strings.Contains(out, "ID=alpine") || !strings.Contains(out, "VERSION_ID=3.20.3") {
		t.Errorf("os-release = %q", out)
	}
}

func TestRunIdentityInside(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		// Supplementary groups are those of /etc/group that list the
		// user, as runc sets them.
		{"root by default", []string{"id"}, "uid=0(root) gid=0(root)\n"},
		{"user by name", []string{"-u", "app", "busybox", "id"}, "uid=1000(app) gid=1000(app) groups=100(users)\n"},
		{"user and group", []string{"-u", "nobody:tty", "busybox", "id"}, "uid=65534(nobody) gid=5(tty)\n"},
		{"numeric user", []string{"-u", "4242", "busybox", "id", "-u"}, "4242\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args[0] == "id" {
				args = []string{"busybox", "id"}
			}
			if got := g.ok(append([]string{"run", "--rm"}, args...)...); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunOptions(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	envFile := filepath.Join(env.workDir, "run-options.env")
	if err := os.WriteFile(envFile, []byte("# comment\nFROM_FILE=yes\nOVERRIDE=file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"hostname", []string{"--hostname", "box1", "busybox", "hostname"}, "box1\n"},
		{"hostname in hosts", []string{"-h", "box2", "--network", "none", "busybox", "grep", "box2", "/etc/hosts"}, "127.0.1.1\tbox2\n"},
		{"env", []string{"-e", "A=1", "--env", "B=two words", "busybox", "sh", "-c", "echo $A/$B"}, "1/two words\n"},
		{"env file then flag", []string{"--env-file", envFile, "-e", "OVERRIDE=flag", "busybox", "sh", "-c", "echo $FROM_FILE $OVERRIDE"}, "yes flag\n"},
		{"default path", []string{"busybox", "sh", "-c", "echo $PATH"}, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"},
		{"workdir created", []string{"-w", "/srv/app", "busybox", "pwd"}, "/srv/app\n"},
		{"entrypoint", []string{"--entrypoint", "echo", "busybox", "a", "b"}, "a b\n"},
		{"image cmd", []string{"-i", "busybox"}, "from stdin\n"},
		{"home of user", []string{"-u", "app", "busybox", "sh", "-c", "echo $HOME"}, "/home/app\n"},
		{"no new privileges", []string{"busybox", "grep", "NoNewPrivs", "/proc/self/status"}, "NoNewPrivs:\t1\n"},
		{"pid namespace", []string{"busybox", "sh", "-c", "echo $$"}, "1\n"},
		{"loopback only", []string{"--network", "none", "busybox", "sh", "-c", "ls /sys/class/net"}, "lo\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := ""
			if tt.name == "image cmd" {
				stdin = "echo from stdin\n"
			}
			res := g.tryInput(stdin, append([]string{"run", "--rm"}, tt.args...)...)
			if res.code != 0 {
				t.Fatalf("%s", res)
			}
			if res.stdout != tt.want {
				t.Errorf("got %q, want %q", res.stdout, tt.want)
			}
		})
	}
}

func TestRunCapabilities(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	capLine := func(args ...string) string {
		out := g.ok(append(append([]string{"run", "--rm"}, args...), "busybox", "grep", "CapEff", "/proc/self/status")...)
		return strings.TrimSpace(strings.TrimPrefix(out, "CapEff:"))
	}
	// Docker's default set: chown dac_override fowner fsetid kill setgid
	// setuid setpcap net_bind_service net_raw sys_chroot mknod audit_write
	// setfcap.
	if got := capLine(); got != "00000000a80425fb" {
		t.Errorf("default CapEff = %s, want 00000000a80425fb", got)
	}
	if got := capLine("--cap-drop", "ALL", "--cap-add", "CHOWN"); got != "0000000000000001" {
		t.Errorf("CapEff with only CHOWN = %s, want 0000000000000001", got)
	}
	if got := capLine("--cap-add", "NET_ADMIN"); got != "00000000a80435fb" {
		t.Errorf("CapEff with NET_ADMIN = %s, want 00000000a80435fb", got)
	}
	if got := capLine("-u", "app"); got != "0000000000000000" {
		t.Errorf("CapEff of a non-root user = %s, want none", got)
	}
	stderr := g.fails(125, "run", "--rm", "--cap-add", "NOT_A_CAP", "busybox", "true")
	if !strings.Contains(stderr, "NOT_A_CAP") {
		t.Errorf("stderr = %q, want it to name the capability", stderr)
	}
}

func TestRunMaskedPaths(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	if out := g.ok("run", "--rm", "busybox", "cat", "/proc/keys"); out != "" {
		t.Errorf("/proc/keys is readable: %q", out)
	}
	res := g.try("run", "--rm", "busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/panic")
	if res.code == 0 || !strings.Contains(res.stderr, "Read-only file system") {
		t.Errorf("/proc/sys writable: %s", res)
	}
	res = g.try("run", "--rm", "busybox", "touch", "/sys/kernel/x")
	if res.code == 0 {
		t.Errorf("/sys writable: %s", res)
	}
}

func TestRunBindMounts(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	dir := filepath.Join(env.workDir, "bind-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, g.acct.uid, g.acct.gid); err != nil {
		t.Fatal(err)
	}
	if out := g.ok("run", "--rm", "-v", dir+":/data", "busybox", "sh", "-c", "cat /data/in.txt; echo out > /data/out.txt"); out != "from host\n" {
		t.Errorf("read through bind mount = %q", out)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, "out.txt"), &st); err != nil {
		t.Fatalf("file written in the container is missing on the host: %v", err)
	}
	if int(st.Uid) != g.acct.uid {
		t.Errorf("file written by container root owned by %d on the host, want the user %d", st.Uid, g.acct.uid)
	}
	res := g.try("run", "--rm", "-v", dir+":/data:ro", "busybox", "touch", "/data/new")
	if res.code == 0 || !strings.Contains(res.stderr, "Read-only file system") {
		t.Errorf("write to a :ro bind mount: %s", res)
	}
	file := filepath.Join(dir, "in.txt")
	if out := g.ok("run", "--rm", "-v", file+":/etc/in.txt:ro", "busybox", "cat", "/etc/in.txt"); out != "from host\n" {
		t.Errorf("file bind mount = %q", out)
	}
	for _, bad := range []string{"relative:/x", dir + ":relative", "/nonexistent-gocker:/x", dir + ":/x:rx", dir} {
		stderr := g.fails(125, "run", "--rm", "-v", bad, "busybox", "true")
		if !strings.Contains(stderr, "invalid --volume") {
			t.Errorf("-v %s: stderr = %q, want an invalid --volume error", bad, stderr)
		}
	}
	if stderr := g.fails(125, "run", "--rm", "-v", "data:/x", "busybox", "true"); !strings.Contains(stderr, `"data" is a volume name`) {
		t.Errorf("-v data:/x: stderr = %q, want it to name the volume", stderr)
	}
}

func TestRunReadOnlyRootfs(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	res := g.try("run", "--rm", "--read-only", "busybox", "touch", "/etc/x")
	if res.code != 1 || !strings.Contains(res.stderr, "Read-only file system") {
		t.Errorf("touch on a read-only root: %s", res)
	}
	// /tmp stays writable only through an explicit volume; /dev/shm is
	// a tmpfs of its own.
	g.ok("run", "--rm", "--read-only", "busybox", "touch", "/dev/shm/x")
	g.ok("run", "--rm", "busybox", "touch", "/etc/x")
}

func TestRunUnknownUserLeavesNothing(t *testing.T) {
	g := newRootless(t)
	g.alpine(t)
	res := g.try("run", "-u", "nosuchuser", "alpine", "true")
	if res.code != 125 {
		t.Fatalf("want exit 125, got %s", res)
	}
	if !strings.Contains(res.stderr, "nosuchuser") {
		t.Errorf("stderr = %q, want it to name the user nosuchuser", res.stderr)
	}
	if ids := g.lines(g.try("ps", "-a", "-q")); len(ids) != 0 {
		t.Errorf("ps -a -q = %v after the failed run, want no containers", ids)
	}

	// A user with two colons is invalid syntax, not a group named "2:3".
	stderr := g.fails(125, "run", "-u", "1:2:3", "alpine", "true")
	if !strings.Contains(stderr, `invalid --user "1:2:3"`) || !strings.Contains(stderr, "USER[:GROUP]") {
		t.Errorf("run -u 1:2:3: stderr = %q, want the value and the USER[:GROUP] syntax", stderr)
	}
	if ids := g.lines(g.try("ps", "-a", "-q")); len(ids) != 0 {
		t.Errorf("ps -a -q = %v after run -u 1:2:3, want no containers", ids)
	}

	// A missing command (127) keeps the container, as in Docker.
	g.fails(127, "run", "--name", "nf", "alpine", "no-such-command")
	if got := g.field(t, "nf", "{{.State.Status}} {{.State.ExitCode}}"); got != "created 127" {
		t.Errorf("state of the container whose command was not found = %q, want created 127", got)
	}
}

func TestRunExitCodes(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"success", []string{"true"}, 0, ""},
		{"own status", []string{"sh", "-c", "exit 3"}, 3, ""},
		{"not executable", []string{"/etc/passwd"}, 126, "permission denied"},
		{"directory", []string{"/etc"}, 126, "is a directory"},
		{"not found", []string{"no-such-command"}, 127, "executable file not found"},
		{"missing path", []string{"/no/such/file"}, 127, "no such file"},
		{"unknown user", []string{"-u", "ghost", "busybox", "true"}, 125, "ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--rm", "busybox"}, tt.args...)
			if tt.args[0] == "-u" {
				args = append([]string{"run", "--rm"}, tt.args...)
			}
			res := g.try(args...)
			if res.code != tt.code {
				t.Fatalf("want exit %d, got %s", tt.code, res)
			}
			if tt.stderr != "" && !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.stderr)
			}
		})
	}
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("--rm left containers: %v", ids)
	}
}

// startContainer starts gocker run in the background and returns the
// command and the host pid of the container's process once it runs.
func startContainer(t *testing.T, g *gocker, args ...string) (*execution, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := g.command(ctx, append([]string{"run"}, args...)...)
	e := &execution{cmd: cmd, cancel: cancel, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &e.stdout, &e.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		e.err = cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-e.done
		cancel()
	})
	pid := waitForChild(t, cmd.Process.Pid)
	return e, pid
}

type execution struct {
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	done           chan struct{}
	err            error
	stdout, stderr lockedBuffer
}

// exitCode waits for the command and returns its exit status.
func (e *execution) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-e.done:
	case <-time.After(time.Minute):
		t.Fatal("gocker run did not exit within a minute")
	}
	if e.err == nil {
		return 0
	}
	var exitErr *exec.ExitError
	if errors.As(e.err, &exitErr) {
		return exitErr.ExitCode()
	}
	t.Fatalf("gocker run: %v", e.err)
	return -1
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitForChild returns the pid of the container process: the child of
// gocker run that has executed the container's command, so its executable
// is no longer the gocker binary or an id map tool. It is in a PID
// namespace of its own, unlike network helpers such as slirp4netns.
func waitForChild(t *testing.T, parent int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	parentNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", parent))
	for time.Now().Before(deadline) {
		for _, pid := range childPids(parent) {
			exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
			if exe != "" && ns != parentNS && !strings.HasSuffix(exe, "/gocker") && !strings.HasSuffix(exe, "/gocker-init") && !strings.Contains(exe, "newuidmap") && !strings.Contains(exe, "newgidmap") {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gocker run (pid %d) started no container process within 30s", parent)
	return 0
}

// childPids scans /proc for the children of parent; /proc/PID/task/TID/children
// needs CONFIG_PROC_CHILDREN, which not every kernel has.
func childPids(parent int) []int {
	return pidsWhere(func(pid int) bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		return len(fields) > 1 && fields[1] == strconv.Itoa(parent)
	})
}

func TestRunKilledContainerExits137(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	e, pid := startContainer(t, g, "--rm", "busybox", "sleep", "1000")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := e.exitCode(t); code != 137 {
		t.Errorf("exit status after SIGKILL = %d, want 137", code)
	}
}

func TestRunForwardsSignals(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			script := fmt.Sprintf(`trap "echo got; exit 42" %d; echo ready; while :; do sleep 0.05; done`, int(sig))
			e, _ := startContainer(t, g, "--rm", "busybox", "sh", "-c", script)
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(e.stdout.String(), "ready") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if err := e.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := e.exitCode(t); code != 42 {
				t.Errorf("exit status = %d, want the trap's 42 (stdout %q, stderr %q)", code, e.stdout.String(), e.stderr.String())
			}
			if !strings.Contains(e.stdout.String(), "got") {
				t.Errorf("the container did not receive %v: stdout %q", sig, e.stdout.String())
			}
		})
	}
}

func TestRunStdinEndOfFile(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	res := g.tryInput("line one\nline two\n", "run", "--rm", "-i", "busybox", "wc", "-l")
	if res.code != 0 || strings.TrimSpace(res.stdout) != "2" {
		t.Errorf("wc -l of two lines: %s", res)
	}
	// Without -i the container's stdin is /dev/null.
	res = g.tryInput("ignored\n", "run", "--rm", "busybox", "wc", "-c")
	if res.code != 0 || strings.TrimSpace(res.stdout) != "0" {
		t.Errorf("stdin without -i: %s", res)
	}
}

func TestRunConcurrentSameImage(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = g.try("run", "--rm", "busybox", "sh", "-c", fmt.Sprintf("echo %d > /tmp/n; cat /tmp/n", i))
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.code != 0 || res.stdout != fmt.Sprintf("%d\n", i) {
			t.Errorf("run %d: %s", i, res)
		}
	}
}

func TestRunNameConflict(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.ok("run", "--name", "web", "busybox", "true")
	stderr := g.fails(125, "run", "--name", "web", "busybox", "true")
	if !strings.Contains(stderr, `"web" is used by container`) {
		t.Errorf("stderr = %q", stderr)
	}
	stderr = g.fails(125, "run", "--name", "-bad", "busybox", "true")
	if !strings.Contains(stderr, "invalid container name") {
		t.Errorf("stderr = %q", stderr)
	}
	long := strings.Repeat("h", 65)
	stderr = g.fails(125, "run", "--pull", "never", "--hostname", long, "busybox", "true")
	if !strings.Contains(stderr, "invalid --hostname \""+long+"\"") || !strings.Contains(stderr, "at most 64") {
		t.Errorf("stderr for a 65-character host name = %q, want the name and the limit", stderr)
	}
	if n := len(g.lines(g.try("ps", "-aq"))); n != 1 {
		t.Errorf("%d containers after a name conflict and a bad host name, want 1", n)
	}
}

func TestRunMissingImage(t *testing.T) {
	g := newRootless(t)
	stderr := g.fails(125, "run", "--rm", "--pull", "never", "nosuchimage", "true")
	if !strings.Contains(stderr, "no such image") || !strings.Contains(stderr, "gocker import") {
		t.Errorf("stderr = %q, want the missing image and how to create it", stderr)
	}
	if n := len(g.lines(g.try("ps", "-aq"))); n != 0 {
		t.Errorf("a failed run left %d containers", n)
	}
}

func TestRunResetsIgnoredSignals(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	// A shell running gocker in the background ignores SIGINT and SIGQUIT;
	// the container's process must start with default dispositions.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wrapped := *g
	wrapped.wrapper = []string{"/bin/sh", "-c", `trap "" INT QUIT HUP; exec "$@"`, "sh"}
	cmd := wrapped.command(ctx, "run", "--rm", "--network", "none", "busybox", "grep", "SigIgn", "/proc/self/status")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gocker run: %v", err)
	}
	if strings.TrimSpace(string(out)) != "SigIgn:\t0000000000000000" {
		t.Errorf("container's ignored signals = %q, want none", out)
	}
}

func TestRunRootGroupsFromImage(t *testing.T) {
	g := newRootless(t)
	g.alpine(t)
	// Alpine's /etc/group lists root in several groups; Docker gives them
	// to root with and without -u.
	want := "uid=0(root) gid=0(root) groups=0(root),1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),26(tape),27(video)\n"
	for _, args := range [][]string{{"alpine", "id"}, {"-u", "root", "alpine", "id"}} {
		if got := g.ok(append([]string{"run", "--rm"}, args...)...); got != want {
			t.Errorf("run %v = %q, want %q", args, got, want)
		}
	}
}

// A container with its own network namespace lets users bind any port and
// open ping sockets, as Docker's do.
func TestNetworkSysctlsForUsers(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	out := g.ok("run", "--rm", "--network", "none", "busybox", "cat",
		"/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/net/ipv4/ping_group_range")
	// The test user's namespace maps gids 0 to 65536.
	if out != "0\n0\t65536\n" {
		t.Errorf("sysctls = %q, want port start 0 and ping groups 0 to 65536", out)
	}
	// Alpine's busybox falls back to a ping socket without CAP_NET_RAW;
	// Debian's busybox-static does not.
	g.alpine(t)
	out = g.ok("run", "--rm", "--network", "none", "-u", "nobody", "--cap-drop", "ALL", "alpine", "sh", "-c",
		"ping -c 1 -W 1 127.0.0.1 >/dev/null && echo ping; nc -l -p 80 & sleep 0.3; kill -0 $! && echo bound")
	if out != "ping\nbound\n" {
		t.Errorf("as nobody without capabilities: %q, want ping and bound", out)
	}
}
