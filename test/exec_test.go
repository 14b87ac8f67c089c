//go:build integration

package test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExecOptions(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	envFile := filepath.Join(env.workDir, "exec-options.env")
	if err := os.WriteFile(envFile, []byte("FROM_FILE=yes\nOVERRIDE=file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.runDetached(t, "--name", "box", "--network", "none", "-e", "RUN_VAR=run", "-w", "/srv", "busybox", "sleep", "1000")
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"configured env and workdir", []string{"box", "sh", "-c", "echo $RUN_VAR $PWD $HOME"}, "", "run /srv /root\n"},
		{"env flags", []string{"-e", "A=1", "--env-file", envFile, "-e", "OVERRIDE=flag", "box", "sh", "-c", "echo $A $FROM_FILE $OVERRIDE $RUN_VAR"}, "", "1 yes flag run\n"},
		{"workdir", []string{"-w", "/tmp", "box", "pwd"}, "", "/tmp\n"},
		{"user", []string{"-u", "app", "box", "sh", "-c", "id; echo $HOME"}, "", "uid=1000(app) gid=1000(app) groups=100(users)\n/home/app\n"},
		{"user and group ids", []string{"-u", "4242:5", "box", "id"}, "", "uid=4242 gid=5(tty)\n"},
		{"root capabilities", []string{"box", "grep", "-E", "CapEff|NoNewPrivs", "/proc/self/status"}, "", "CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\n"},
		{"user capabilities", []string{"-u", "app", "box", "grep", "CapEff", "/proc/self/status"}, "", "CapEff:\t0000000000000000\n"},
		{"namespaces", []string{"box", "sh", "-c", "hostname; ls /sys/class/net; ps -o pid,args | grep -c '^ *1 sleep 1000'"}, "", g.field(t, "box", "{{.Config.Hostname}}") + "\nlo\n1\n"},
		{"stdin", []string{"-i", "box", "wc", "-l"}, "a\nb\nc\n", "3\n"},
		{"no stdin without -i", []string{"box", "wc", "-c"}, "ignored\n", "0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := g.tryInput(tt.stdin, append([]string{"exec"}, tt.args...)...)
			if res.code != 0 || res.stdout != tt.want {
				t.Errorf("want %q, got %s", tt.want, res)
			}
		})
	}
	codes := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"own status", []string{"box", "sh", "-c", "exit 7"}, 7, ""},
		{"signal", []string{"box", "sh", "-c", "kill -9 $$"}, 137, ""},
		{"not found", []string{"box", "no-such-command"}, 127, "executable file not found"},
		{"not executable", []string{"box", "/etc/passwd"}, 126, "permission denied"},
		{"missing workdir", []string{"-w", "/no/such/dir", "box", "true"}, 126, "/no/such/dir"},
		{"unknown user", []string{"-u", "ghost", "box", "true"}, 125, "ghost"},
		{"relative workdir", []string{"-w", "rel", "box", "true"}, 125, "absolute"},
		{"missing container", []string{"nobody", "true"}, 1, "no such container"},
		{"no command", []string{"box"}, 125, "requires at least 2 arguments"},
	}
	for _, tt := range codes {
		t.Run(tt.name, func(t *testing.T) {
			res := g.try(append([]string{"exec"}, tt.args...)...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("want exit %d and %q on stderr, got %s", tt.code, tt.stderr, res)
			}
		})
	}

	// -d returns at once and leaves the command running.
	start := time.Now()
	g.ok("exec", "-d", "box", "sh", "-c", "sleep 1; echo done > /tmp/detached")
	if elapsed := time.Since(start); elapsed > 900*time.Millisecond {
		t.Errorf("exec -d took %v, as long as its command", elapsed)
	}
	waitUntil(t, 10*time.Second, "the detached command's file", func() bool {
		return g.try("exec", "box", "cat", "/tmp/detached").stdout == "done\n"
	})

	// A container on the host's network shares the host's network
	// namespace, which exec leaves alone.
	g.runDetached(t, "--name", "hostnet", "--network", "host", "busybox", "sleep", "1000")
	if got := g.ok("exec", "hostnet", "hostname"); got != hostname(t)+"\n" {
		t.Errorf("exec hostname in a container on the host's network = %q", got)
	}
	// inspect names the network of none and host as Docker does, with no
	// address of the container's own.
	empty := `{"Gateway":"","IPAddress":"","IPPrefixLen":0,"MacAddress":""}`
	for name, network := range map[string]string{"box": "none", "hostnet": "host"} {
		want := fmt.Sprintf(`{"%s":%s} {}`, network, empty)
		if got := g.field(t, name, "{{json .NetworkSettings.Networks}} {{json .NetworkSettings.Ports}}"); got != want {
			t.Errorf("inspect %s NetworkSettings.Networks and Ports = %s, want %s", name, got, want)
		}
	}

	g.ok("stop", "-t", "0", "box")
	stderr := g.fails(1, "exec", "box", "true")
	if !strings.Contains(stderr, "container is not running") || !strings.Contains(stderr, "gocker start box") {
		t.Errorf("exec in a stopped container: %q", stderr)
	}
}

func TestExecAsRoot(t *testing.T) {
	g := newRootful(t)
	g.alpine(t)
	g.runDetached(t, "--name", "box", "alpine", "sleep", "1000")
	out := g.ok("exec", "-u", "nobody", "-e", "X=1", "box", "sh", "-c", "id -u; echo $X; grep -E 'CapEff|NoNewPrivs' /proc/self/status; cat /etc/alpine-release")
	if out != "65534\n1\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n3.20.3\n" {
		t.Errorf("exec as root into alpine = %q", out)
	}
	if res := g.try("exec", "box", "sh", "-c", "exit 3"); res.code != 3 {
		t.Errorf("exit status: %s", res)
	}
}

func hostname(t *testing.T) string {
	t.Helper()
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// openPty returns a new pty's master and terminal, the terminal sized
// rows x cols.
func openPty(t *testing.T, rows, cols uint16) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("needs /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Close()
		s.Close()
	})
	return m, s
}

// runOnTerminal runs gocker with the pty terminal term as its stdio and
// controlling terminal, writes input to the master and returns what the
// master read until gocker exited, and gocker's exit status.
func (g *gocker) runOnTerminal(t *testing.T, master, term *os.File, input string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := g.command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term, term, term
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var out strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(&out, master)
	}()
	if input != "" {
		time.Sleep(300 * time.Millisecond)
		_, _ = master.Write([]byte(input))
	}

	err := cmd.Wait()
	code := 0
	var exitErr *exec.ExitError
	if errors := err; errors != nil {
		if !asExitError(err, &exitErr) {
			t.Fatal(err)
		}
		code = exitErr.ExitCode()
	}
	// The terminal side stays open in this process: end the copy by
	// closing it after the output drained.
	time.Sleep(100 * time.Millisecond)
	term.Close()
	wg.Wait()
	return out.String(), code
}

func asExitError(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func TestExecTerminal(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.runDetached(t, "--name", "box", "busybox", "sleep", "1000")
	master, term := openPty(t, 30, 100)
	out, code := g.runOnTerminal(t, master, term, "", "exec", "-it", "box", "sh", "-c", "tty; stty size; echo $TERM; ls -l $(tty) | cut -c1-10; exit 5")
	if code != 5 {
		t.Errorf("exit status %d, want 5; output %q", code, out)
	}
	for _, want := range []string{"/dev/pts/0\r\n", "30 100\r\n", "xterm\r\n", "crw--w----\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	// Input typed on the terminal reaches an interactive shell.
	master, term = openPty(t, 24, 80)
	out, code = g.runOnTerminal(t, master, term, "echo typed-$((6*7))\rexit 3\r", "exec", "-it", "box", "sh")
	if code != 3 || !strings.Contains(out, "typed-42") {
		t.Errorf("interactive shell: exit %d, output %q", code, out)
	}
	res := g.try("exec", "-it", "box", "true")
	if res.code != 125 || !strings.Contains(res.stderr, "not a TTY") {
		t.Errorf("exec -it without a terminal: %s", res)
	}
}

// exeprobe builds the probe of testdata/exeprobe once.
var exeprobe = sync.OnceValues(func() (string, error) {
	path := filepath.Join(env.workDir, "exeprobe")
	cmd := exec.Command("go", "build", "-o", path, "./testdata/exeprobe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build exeprobe: %v\n%s", err, out)
	}
	return path, nil
})

func TestExecCannotReachGockerBinary(t *testing.T) {
	g := newRootless(t)
	testExecCannotReachGockerBinary(t, g)
}

func TestExecCannotReachGockerBinaryAsRoot(t *testing.T) {
	g := newRootful(t)
	testExecCannotReachGockerBinary(t, g)
}

// testExecCannotReachGockerBinary runs gocker exec many times, from a
// gocker binary the container's root could write, while a process in the
// container tries to write every gocker binary it finds. The container has
// CAP_SYS_PTRACE, so the helper's being non-dumpable does not stop the
// probe: only the sealed copy does. Its PID 1 is gocker's --init, which
// the probe finds in every round.
func testExecCannotReachGockerBinary(t *testing.T, g *gocker) {
	g.busybox(t)
	probe, err := exeprobe()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(env.workDir, fmt.Sprintf("writable-%s", filepath.Base(filepath.Dir(g.root))))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	binary := filepath.Join(dir, "gocker")
	// cp writes the copy, so that no process this test forks meanwhile
	// inherits a descriptor open for writing, which would make executing
	// the copy fail with ETXTBSY.
	if out, err := exec.Command("cp", env.binary, binary).CombinedOutput(); err != nil {
		t.Fatalf("copy the gocker binary: %v: %s", err, out)
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if g.acct != nil {
		if err := os.Chown(binary, g.acct.uid, g.acct.gid); err != nil {
			t.Fatal(err)
		}
	}
	before := sha256.Sum256(data)

	g.runDetached(t, "--name", "probe", "--init", "--cap-add", "SYS_PTRACE", "-v", probe+":/probe:ro", "busybox", "/probe", "/tmp/stop")
	for i := 0; i < 40; i++ {
		res := g.tryBinary(binary, "exec", "probe", "true")
		if res.code != 0 {
			t.Fatalf("exec %d: %s", i, res)
		}
	}

	// The stop request goes through the writable binary too: an exec from
	// the root-owned test binary may show the probe its helper, which is
	// harmless because the container cannot write that file, but the
	// probe reports every gocker binary that is not a sealed copy.
	// The probe exits as soon as the file exists, and the container's
	// end kills whatever still runs in it, so touch may end with SIGKILL
	// (137) before it exits by itself.
	if res := g.tryBinary(binary, "exec", "probe", "touch", "/tmp/stop"); res.code != 0 && res.code != 137 {
		t.Fatalf("stop the probe: %s", res)
	}
	if got := g.ok("wait", "probe"); got != "0\n" {
		t.Errorf("the probe exited with %q", got)
	}
	out := g.ok("logs", "probe")
	if strings.Contains(out, "EXPOSED") || strings.Contains(out, "WROTE") {
		t.Errorf("a process in the container reached a gocker binary:\n%s", out)
	}
	var rounds, seen int
	if _, err := fmt.Sscanf(out[strings.LastIndex(out, "rounds"):], "rounds %d gocker %d", &rounds, &seen); err != nil || rounds < 10 || seen == 0 {
		t.Errorf("the probe did not run or saw no gocker process (its init among them): %q", out)
	}
	after, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(after) != before {
		t.Error("the writable gocker binary changed")
	}
}

// tryBinary runs another gocker binary with g's user and store.
func (g *gocker) tryBinary(binary string, args ...string) result {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	other := *g
	other.binary = binary
	cmd := other.command(ctx, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	if asExitError(err, &exitErr) {
		res.code = exitErr.ExitCode()
	} else if err != nil {
		g.t.Fatal(err)
	}
	return res
}

// TestExecJoinsCgroupAsRoot records a cgroup in a running container's
// state, as a hook that places the container in a cgroup does, and checks
// that gocker exec puts its process there.
func TestExecJoinsCgroupAsRoot(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	cgroup := fmt.Sprintf("/sys/fs/cgroup/pids/gocker-e2e-exec-%d", os.Getpid())
	if err := os.Mkdir(cgroup, 0o755); err != nil {
		t.Skipf("needs a cgroup v1 pids hierarchy at /sys/fs/cgroup/pids: %v", err)
	}
	t.Cleanup(func() {
		// The exec'd processes are gone once the container is; rmdir
		// fails while the cgroup has processes.
		waitUntil(t, 10*time.Second, "the test cgroup to empty", func() bool {
			return os.Remove(cgroup) == nil
		})
	})
	id := g.runDetached(t, "--name", "grouped", "busybox", "sleep", "1000")
	t.Cleanup(func() { g.try("rm", "-f", "grouped") })
	statePath := filepath.Join(g.root, "containers", id, "state.json")
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatal(err)
	}
	state["Cgroups"] = []string{cgroup}
	if data, err = json.Marshal(state); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(statePath, data, 0o600); err != nil {
		t.Fatal(err)
	}

	out := g.ok("exec", "grouped", "cat", "/proc/self/cgroup")
	if !strings.Contains(out, "pids:/"+filepath.Base(cgroup)+"\n") {
		t.Errorf("/proc/self/cgroup of the exec'd process = %q, want it in %s", out, cgroup)
	}
	g.ok("exec", "-d", "grouped", "sleep", "1000")
	procs, err := os.ReadFile(filepath.Join(cgroup, "cgroup.procs"))
	if err != nil || len(strings.Fields(string(procs))) != 1 {
		t.Errorf("cgroup.procs = %q (%v), want the detached process", procs, err)
	}
	g.ok("rm", "-f", "grouped")
}
