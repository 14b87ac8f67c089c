//go:build integration

package test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestInitBinary checks which binary a container's init runs from. It is
// the gocker-init built next to gocker, or for a monitor the one it opened
// before the file was replaced. gocker itself is the init where the file
// is missing or unreadable, and a file of another build is an error. A container
// with --init keeps its init as PID 1, run from a sealed copy of that
// binary, so the size of /proc/PID/exe shows which one it is.
func TestInitBinary(t *testing.T) {
	g := newRootless(t)
	initBin := filepath.Join(filepath.Dir(env.binary), "gocker-init")
	if _, err := os.Stat(initBin); err != nil {
		t.Skipf("needs %s next to the gocker under test (scripts/build.sh builds both): %v", initBin, err)
	}
	g.busybox(t)

	g.runDetached(t, "--name", "lean", "--init", "busybox", "sleep", "1000")
	if got, want := initSize(t, g, "lean"), fileSize(t, initBin); got != want {
		t.Errorf("PID 1 of a container with --init runs from %d bytes, want gocker-init's %d", got, want)
	}
	g.ok("rm", "-f", "lean")
	assertDoctorInitRow(t, g, "ok", "containers start from "+initBin)
	if out := g.ok("run", "--rm", "busybox", "echo", "from-init-binary"); out != "from-init-binary\n" {
		t.Errorf("run with gocker-init printed %q", out)
	}

	// A copy of both binaries in a directory of their own.
	dir, err := os.MkdirTemp(env.workDir, "bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyExecutable(t, env.binary, filepath.Join(dir, "gocker"))
	copyExecutable(t, initBin, filepath.Join(dir, "gocker-init"))
	g.binary = filepath.Join(dir, "gocker")
	// The store's cleanup runs after the directory is gone.
	t.Cleanup(func() { g.binary = "" })
	other := filepath.Join(dir, "gocker-init.other")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/gocker/gocker/container/initproc.BuildID=other",
		"-o", other, "../cmd/gocker-init")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build a gocker-init with another build id: %v\n%s", err, out)
	}

	// A monitor keeps restarting its container with the init it started
	// with, after the file was replaced by one of another build, as an
	// upgrade with install(1) or mv does.
	g.runDetached(t, "--name", "loop", "--restart", "always", "busybox", "sh", "-c", "sleep 0.5; exit 3")
	waitUntil(t, 20*time.Second, "the first restart", func() bool { return g.field(t, "loop", "{{.RestartCount}}") != "0" })
	replaced := filepath.Join(dir, "gocker-init.new")
	copyExecutable(t, other, replaced)
	if err := os.Rename(replaced, filepath.Join(dir, "gocker-init")); err != nil {
		t.Fatal(err)
	}
	count, _ := strconv.Atoi(g.field(t, "loop", "{{.RestartCount}}"))
	waitUntil(t, 20*time.Second, "two restarts after the replacement", func() bool {
		n, _ := strconv.Atoi(g.field(t, "loop", "{{.RestartCount}}"))
		return n >= count+2
	})
	if got := g.field(t, "loop", "{{.State.Error}}"); got != "" {
		t.Errorf("restart after replacing gocker-init: State.Error = %q, want none", got)
	}
	g.ok("rm", "-f", "loop")

	// A new gocker process refuses the init of another build, with or
	// without --init, and names its file.
	before := g.ok("ps", "-aq")
	for _, args := range [][]string{{"run", "--rm", "busybox", "true"}, {"run", "--rm", "--init", "busybox", "true"}} {
		stderr := g.fails(125, args...)
		for _, want := range []string{"comes from another build", `"other"`, "make install", "remove " + filepath.Join(dir, "gocker-init")} {
			if !strings.Contains(stderr, want) {
				t.Errorf("gocker %s with a gocker-init of another build: stderr %q lacks %q", strings.Join(args, " "), stderr, want)
			}
		}
	}
	if after := g.ok("ps", "-aq"); after != before {
		t.Errorf("the refused runs left a container: ps -aq went from %q to %q", before, after)
	}
	assertDoctorInitRow(t, g, "fail", filepath.Join(dir, "gocker-init")+` comes from another build (build id "other"`)

	// Without gocker-init, gocker is its own init.
	if err := os.Remove(filepath.Join(dir, "gocker-init")); err != nil {
		t.Fatal(err)
	}
	g.runDetached(t, "--name", "self", "--init", "busybox", "sleep", "1000")
	if got, want := initSize(t, g, "self"), fileSize(t, env.binary); got != want {
		t.Errorf("without gocker-init, PID 1 of a container with --init runs from %d bytes, want gocker's %d", got, want)
	}
	g.ok("rm", "-f", "self")
	if out := g.ok("run", "--rm", "busybox", "echo", "from-gocker"); out != "from-gocker\n" {
		t.Errorf("run without gocker-init printed %q", out)
	}

	// An init binary the user may run but not read cannot be copied for
	// --init, so gocker is the init then too.
	copyExecutable(t, initBin, filepath.Join(dir, "gocker-init"))
	if err := os.Chmod(filepath.Join(dir, "gocker-init"), 0o711); err != nil {
		t.Fatal(err)
	}
	if out := g.ok("run", "--rm", "--init", "busybox", "echo", "unreadable"); out != "unreadable\n" {
		t.Errorf("run --init with an unreadable gocker-init printed %q", out)
	}

	// A damaged file (an interrupted copy) is named in the error.
	data, err := os.ReadFile(initBin)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "gocker-init")
	if err := os.Remove(damaged); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(damaged, data[:100<<10], 0o755); err != nil {
		t.Fatal(err)
	}
	stderr := g.fails(125, "run", "--rm", "busybox", "true")
	for _, want := range []string{damaged, "gocker doctor"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("run with a damaged gocker-init: stderr %q lacks %q", stderr, want)
		}
	}

	// Run by hand, it exits with advice.
	out, err := exec.Command(initBin).CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 125 || !strings.Contains(string(out), `run "gocker run" instead`) {
		t.Errorf("gocker-init run by hand: %v, output %q; want exit 125 and advice", err, out)
	}
}

// assertDoctorInitRow fails unless gocker doctor prints its init-binary
// row with status and a detail containing detail.
func assertDoctorInitRow(t *testing.T, g *gocker, status, detail string) {
	t.Helper()
	for _, line := range strings.Split(g.try("doctor").stdout, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "init-binary" {
			continue
		}
		if fields[1] != status || !strings.Contains(line, detail) {
			t.Errorf("doctor's init-binary row = %q, want status %s and %q", line, status, detail)
		}
		return
	}
	t.Errorf("gocker doctor printed no init-binary row")
}

// initSize returns the size of the binary that PID 1 of the container
// runs from.
func initSize(t *testing.T, g *gocker, name string) int64 {
	t.Helper()
	pid := g.field(t, name, "{{.State.Pid}}")
	return fileSize(t, "/proc/"+pid+"/exe")
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// copyExecutable copies the file src to dst with mode 0755.
func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
