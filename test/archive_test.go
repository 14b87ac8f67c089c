//go:build integration

package test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCommitRunningContainer(t *testing.T) {
	g := newRootless(t)
	g.alpine(t)
	e, pid := startContainer(t, g, "--name", "live", "alpine", "sh", "-c", "echo during > /root/live; mkfifo /root/fifo; ln /root/live /root/hard; sleep 60")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(g.ok("commit", "live", "probe"), "sha256:") || !strings.Contains(g.try("run", "--rm", "probe", "cat", "/root/hard").stdout, "during") {
		if time.Now().After(deadline) {
			t.Fatal("the running container's change never appeared in a commit")
		}
		time.Sleep(200 * time.Millisecond)
	}
	g.ok("commit", "-m", "live commit", "-c", "ENV MARK=1", "-c", "WORKDIR /root", "live", "snap:1")
	out := g.ok("run", "--rm", "snap:1", "sh", "-c", "pwd; echo $MARK; cat live; test -p fifo && echo fifo; stat -c %h live; ls -l /etc/hosts /etc/resolv.conf 2>&1 | wc -l")
	for _, want := range []string{"/root\n", "1\n", "during\n", "fifo\n", "2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("run of the commit = %q, lacks %q", out, want)
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := e.exitCode(t); code != 137 {
		t.Errorf("exit status %d, want 137", code)
	}
	got := g.inspect(t, "snap:1")
	if got.Comment != "live commit" {
		t.Errorf("Comment = %q, want the commit message", got.Comment)
	}
	if len(got.RootFS.Layers) != 2 {
		t.Errorf("commit has %d layers, want the image's and one more", len(got.RootFS.Layers))
	}
}

func TestCommitExcludesMountPoints(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	out := g.ok("run", "--name", "c", "busybox", "sh", "-c", "echo x > /newfile; cat /etc/hosts /etc/resolv.conf | grep -c .; grep -c ' /etc/' /proc/self/mountinfo")
	// The busybox image has no /etc/hosts or /etc/resolv.conf. The
	// generated files are mounted all the same, over mount points from a
	// layer of gocker's, so the container's upper directory holds only
	// the container's own change.
	if lines := strings.Fields(out); len(lines) != 2 || lines[0] == "0" || lines[1] != "3" {
		t.Errorf("generated lines and /etc mounts = %q, want some lines and 3 mounts", out)
	}
	upper := filepath.Join(g.root, "containers", g.containerID(t, "c"), "upper")
	if entries, err := os.ReadDir(upper); err != nil || len(entries) != 1 || entries[0].Name() != "newfile" {
		t.Errorf("upper directory holds %v (%v), want only newfile", entries, err)
	}
	g.ok("commit", "c", "committed")
	out = g.ok("run", "--rm", "--network", "host", "committed", "sh", "-c", "cat /newfile")
	if out != "x\n" {
		t.Errorf("run = %q", out)
	}
	listing := tarListing(t, g, "committed")
	if strings.Contains(listing, "etc/hosts") || strings.Contains(listing, "etc/resolv.conf") || !strings.Contains(listing, "newfile") {
		t.Errorf("committed layer lists %q, want newfile and no mount points", listing)
	}
}

func TestCommitLeavesOutHostname(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	envOf := func(ref string) string {
		t.Helper()
		return g.ok("image", "inspect", "-f", "{{json .Config.Env}}", ref)
	}

	out := g.ok("run", "--name", "plain", "--network", "none", "busybox", "sh", "-c", "echo $HOSTNAME")
	if id := g.containerID(t, "plain"); out != id[:12]+"\n" {
		t.Errorf("HOSTNAME in the container = %q, want its short id %s", out, id[:12])
	}
	g.ok("commit", "plain", "committed:plain")
	if env := envOf("committed:plain"); strings.Contains(env, "HOSTNAME") {
		t.Errorf("committed Env = %s, want no HOSTNAME", env)
	}

	out = g.ok("run", "--name", "explicit", "--network", "none", "-e", "HOSTNAME=mine", "busybox", "sh", "-c", "echo $HOSTNAME")
	if out != "mine\n" {
		t.Errorf("HOSTNAME with -e HOSTNAME=mine = %q", out)
	}
	g.ok("commit", "explicit", "committed:explicit")
	if env := envOf("committed:explicit"); !strings.Contains(env, `"HOSTNAME=mine"`) {
		t.Errorf("committed Env = %s, want the HOSTNAME given with -e", env)
	}

	g.ok("init", "--change", "ENV HOSTNAME=fromimage", g.busyboxRootfs(t), "named")
	g.ok("run", "--name", "fromimage", "--network", "none", "named", "true")
	g.ok("commit", "fromimage", "committed:image")
	if env := envOf("committed:image"); !strings.Contains(env, `"HOSTNAME=fromimage"`) {
		t.Errorf("committed Env = %s, want the image's HOSTNAME", env)
	}
}

// tarListing returns the names in the top layer of an image, read from a
// docker-archive that gocker saves.
func tarListing(t *testing.T, g *gocker, ref string) string {
	t.Helper()
	archive := filepath.Join(filepath.Dir(g.root), "listing.tar")
	g.ok("save", "-o", archive, ref)
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xf", archive, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar -xf: %v: %s", err, out)
	}
	layers, _ := filepath.Glob(filepath.Join(dir, "*", "layer.tar"))
	var all []string
	for _, l := range layers {
		out, err := exec.Command("tar", "-tf", l).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "bin/") {
			all = append(all, string(out))
		}
	}
	return strings.Join(all, "")
}

// podman runs podman as root with a throwaway store.
func podman(t *testing.T) func(args ...string) string {
	t.Helper()
	requireRoot(t)
	requireBinary(t, "podman")
	dir := t.TempDir()
	return func(args ...string) string {
		t.Helper()
		full := append([]string{"--root", dir + "/root", "--runroot", dir + "/run", "--storage-driver", "vfs"}, args...)
		out, err := exec.Command("podman", full...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

func TestLoadPodmanArchives(t *testing.T) {
	pm := podman(t)
	pm("import", requireAlpine(t), "localhost/palpine:1")
	g := newRootless(t)
	dir := filepath.Dir(g.root)
	// g fails its parent test, so the formats are no subtests.
	for _, format := range []string{"docker-archive", "oci-archive"} {
		func() {
			archive := filepath.Join(dir, format+".tar")
			pm("save", "--format", format, "-o", archive, "localhost/palpine:1")
			if err := os.Chmod(archive, 0o644); err != nil {
				t.Fatal(err)
			}
			out := g.ok("load", "-i", archive)
			if !strings.Contains(out, "Loaded image: localhost/palpine:1") {
				t.Errorf("load = %q", out)
			}
			if out := g.ok("run", "--rm", "localhost/palpine:1", "cat", "/etc/alpine-release"); out != "3.20.3\n" {
				t.Errorf("run = %q", out)
			}
			g.ok("rmi", "localhost/palpine:1")
		}()
	}
}

func TestSaveLoadedByPodman(t *testing.T) {
	requireBinary(t, "podman")
	requireBinary(t, "runc")
	g := newRootless(t)
	g.alpine(t)
	g.ok("run", "--name", "c", "alpine", "sh", "-c", "echo from-gocker > /marker")
	g.ok("commit", "-c", `CMD ["cat", "/marker"]`, "c", "gsaved:1")
	base := filepath.Dir(g.root)
	for _, format := range []string{"docker-archive", "oci-archive"} {
		func() {
			archive := filepath.Join(base, format+".tar")
			g.ok("save", "--format", format, "-o", archive, "gsaved:1")
			out := runPodmanAs(t, g, "load", "-q", "-i", archive)
			if !strings.Contains(out, "gsaved:1") {
				t.Errorf("podman load = %q", out)
			}
			out = runPodmanAs(t, g, "--runtime", "runc", "run", "--rm", "--network", "none", "gsaved:1")
			if !strings.Contains(out, "from-gocker") {
				t.Errorf("podman run = %q", out)
			}
		}()
	}
	// gocker loads its own archives back.
	g.ok("rm", "c")
	g.ok("rmi", "gsaved:1")
	g.ok("load", "-i", filepath.Join(base, "oci-archive.tar"))
	if out := g.ok("run", "--rm", "gsaved:1"); out != "from-gocker\n" {
		t.Errorf("run after load = %q", out)
	}
}

// runPodmanAs runs podman rootless as g's user with a store next to g's,
// and ends podman's pause process when the test ends.
func runPodmanAs(t *testing.T, g *gocker, args ...string) string {
	t.Helper()
	base := filepath.Dir(g.root)
	// Podman refuses a run root longer than 50 characters.
	run := filepath.Join("/tmp", "gkpm-"+strconv.Itoa(g.acct.uid))
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(run, g.acct.uid, g.acct.gid); err != nil {
		t.Fatal(err)
	}
	full := append([]string{"--root", filepath.Join(base, "podman-root"), "--runroot", filepath.Join(run, "root"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"}, args...)
	cmd := exec.Command("podman", full...)
	cmd.Dir = base
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + g.acct.home, "XDG_RUNTIME_DIR=" + run}
	cmd.SysProcAttr = g.acct.sysProcAttr()
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() {
		endPausePID(filepath.Join(run, "libpod", "tmp", "pause.pid"))
		os.RemoveAll(run)
	})
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// endPausePID kills the process whose pid the file holds.
func endPausePID(pidFile string) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 1 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestLoadStdinAndCompressed loads a docker-archive that gocker saved from
// standard input (a pipe and a redirected file), plain and gzip, and with
// --input in every compression that load accepts.
func TestLoadStdinAndCompressed(t *testing.T) {
	g := newRootless(t)
	g.alpine(t)
	base := filepath.Dir(g.root)
	plain := filepath.Join(base, "alpine.tar")
	g.ok("save", "-o", plain, "alpine")
	g.ok("rmi", "alpine")

	compressors := map[string][]string{"gzip": {"gzip", "-kf"}, "xz": {"xz", "-kf"}, "zstd": {"zstd", "-qf"}, "bzip2": {"bzip2", "-kf"}}
	suffix := map[string]string{"gzip": ".gz", "xz": ".xz", "zstd": ".zst", "bzip2": ".bz2"}
	for _, format := range []string{"gzip", "xz", "zstd", "bzip2"} {
		requireBinary(t, compressors[format][0])
		args := append(compressors[format][1:], plain)
		if out, err := exec.Command(compressors[format][0], args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", format, err, out)
		}
		if err := os.Chmod(plain+suffix[format], 0o644); err != nil {
			t.Fatal(err)
		}
	}

	loadPipe := func(file string) result {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return g.tryInput(string(data), "load")
	}
	loadRedirect := func(file string) result {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := g.command(context.Background(), "load")
		var stdout, stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = f, &stdout, &stderr
		res := result{args: []string{"load", "<", file}}
		err = cmd.Run()
		res.stdout, res.stderr = stdout.String(), stderr.String()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			res.code = exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return res
	}
	loadInput := func(file string) result { return g.try("load", "-i", file) }

	cases := []struct {
		name string
		load func(string) result
		file string
	}{
		{"pipe plain", loadPipe, plain},
		{"pipe gzip", loadPipe, plain + ".gz"},
		{"redirect plain", loadRedirect, plain},
		{"redirect gzip", loadRedirect, plain + ".gz"},
		{"input gzip", loadInput, plain + ".gz"},
		{"input xz", loadInput, plain + ".xz"},
		{"input zstd", loadInput, plain + ".zst"},
		{"input bzip2", loadInput, plain + ".bz2"},
	}
	for _, tc := range cases {
		res := tc.load(tc.file)
		if res.code != 0 {
			t.Errorf("%s: %s", tc.name, res)
			continue
		}
		if !strings.Contains(res.stdout, "Loaded image: alpine:latest") {
			t.Errorf("%s: load printed %q, want the loaded tag", tc.name, res.stdout)
		}
		if out := g.ok("run", "--rm", "alpine", "cat", "/etc/alpine-release"); out != "3.20.3\n" {
			t.Errorf("%s: run of the loaded image = %q", tc.name, out)
		}
		g.ok("rmi", "alpine")
	}
}

func TestLoadFailureLeavesNoTempFile(t *testing.T) {
	g := newRootless(t)
	base := filepath.Dir(g.root)
	junk := filepath.Join(base, "junk.tar.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte("this is no tar archive\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, junk, gz.Bytes())
	if err := os.Chmod(junk, 0o644); err != nil {
		t.Fatal(err)
	}

	res := g.tryInput("this is no tar archive either\n", "load")
	if res.code != 125 || !strings.Contains(res.stderr, "load standard input:") {
		t.Errorf("load of junk from standard input: %s, want exit 125 naming standard input", res)
	}
	res = g.tryInput(gz.String(), "load")
	if res.code != 125 || !strings.Contains(res.stderr, "load standard input:") {
		t.Errorf("load of compressed junk from standard input: %s, want exit 125 naming standard input", res)
	}
	res = g.try("load", "-i", junk)
	if res.code != 125 || !strings.Contains(res.stderr, junk) {
		t.Errorf("load -i of compressed junk: %s, want exit 125 naming the file", res)
	}

	entries, err := os.ReadDir(g.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".load-") {
			t.Errorf("failed loads left %s in the store", e.Name())
		}
	}
	if out := g.ok("images", "-q"); out != "" {
		t.Errorf("images after failed loads: %q", out)
	}
}

// TestLoadKilledLeavesNoTempFile kills a load while it still reads its
// archive from standard input: the store keeps no spool file.
func TestLoadKilledLeavesNoTempFile(t *testing.T) {
	g := newRootless(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := g.command(ctx, "load")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// A tar header's worth of bytes, and the pipe stays open, so the load
	// waits in the middle of its archive.
	if _, err := stdin.Write(make([]byte, 512)); err != nil {
		t.Fatal(err)
	}
	spooling := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !spooling; time.Sleep(20 * time.Millisecond) {
		fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "fd"))
		for _, fd := range fds {
			target, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "fd", fd.Name()))
			spooling = spooling || strings.Contains(target, "/.load-")
		}
	}
	if !spooling {
		t.Fatal("the load never opened its spool file in the store")
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	stdin.Close()

	entries, err := os.ReadDir(g.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".load-") {
			t.Errorf("a killed load left %s in the store", e.Name())
		}
	}
}
