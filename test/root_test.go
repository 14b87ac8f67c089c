//go:build integration

package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRootRun(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	// Root gets no user namespace: the identity map covers every id.
	if out := g.ok("run", "--rm", "busybox", "cat", "/proc/self/uid_map"); strings.Join(strings.Fields(out), " ") != "0 0 4294967295" {
		t.Errorf("uid_map as root = %q, want the identity map", out)
	}
	if out := g.ok("run", "--rm", "-h", "rooted", "busybox", "hostname"); out != "rooted\n" {
		t.Errorf("hostname = %q", out)
	}
	if code := g.try("run", "--rm", "busybox", "sh", "-c", "exit 5").code; code != 5 {
		t.Errorf("exit status %d, want 5", code)
	}
	if code := g.try("run", "--rm", "busybox", "missing-command").code; code != 127 {
		t.Errorf("exit status %d, want 127", code)
	}
	// Device nodes are real nodes made with mknod, not bind mounts.
	if out := g.ok("run", "--rm", "busybox", "stat", "-c", "%t:%T %u", "/dev/null"); out != "1:3 0\n" {
		t.Errorf("/dev/null = %q, want device 1:3 owned by root", out)
	}
	g.ok("run", "--name", "owned", "busybox", "sh", "-c", "touch /f && chown 1234:5678 /f")
	var st syscall.Stat_t
	upper := filepath.Join(g.root, "containers", g.containerID(t, "owned"), "upper", "f")
	if err := syscall.Stat(upper, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("file owner on the host %d:%d, want 1234:5678 (no shift as root)", st.Uid, st.Gid)
	}
	g.ok("rm", "owned")
	if m := mountsUnder(t, g.root); len(m) != 0 {
		t.Errorf("mounts left on the host: %v", m)
	}
}

func TestRootAlpineImport(t *testing.T) {
	g := newRootful(t)
	g.alpine(t)
	if out := g.ok("run", "--rm", "alpine", "stat", "-c", "%u:%g", "/etc/shadow"); out != "0:42\n" {
		t.Errorf("owner of /etc/shadow = %q, want 0:42", out)
	}
	// The rootful store keeps owners unshifted on the host.
	var layer string
	entries, _ := os.ReadDir(filepath.Join(g.root, "layers"))
	for _, e := range entries {
		layer = filepath.Join(g.root, "layers", e.Name(), "diff")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(layer, "etc/shadow"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 0 || st.Gid != 42 {
		t.Errorf("host owner %d:%d, want 0:42", st.Uid, st.Gid)
	}
}

// containerID returns the full id of the container named name.
func (g *gocker) containerID(t *testing.T, name string) string {
	t.Helper()
	id, err := os.Readlink(filepath.Join(g.root, "containers", "names", name))
	if err != nil {
		t.Fatalf("container %s: %v", name, err)
	}
	return id
}

func TestDebianImage(t *testing.T) {
	g := newRootless(t)
	g.debian(t)
	out := g.ok("run", "--rm", "debian:bookworm", "cat", "/etc/debian_version")
	if !strings.HasPrefix(out, "12.") {
		t.Errorf("debian_version = %q, want 12.x", out)
	}
	// setuid bits and root ownership survive the import.
	if out := g.ok("run", "--rm", "debian:bookworm", "stat", "-c", "%a %U", "/usr/bin/passwd"); out != "4755 root\n" {
		t.Errorf("/usr/bin/passwd = %q, want 4755 root", out)
	}
	if out := g.ok("run", "--rm", "-u", "nobody", "debian:bookworm", "id", "-un"); out != "nobody\n" {
		t.Errorf("user switch = %q", out)
	}
	if out := g.ok("run", "--rm", "-w", "/usr/share", "debian:bookworm", "bash", "-c", "pwd; echo $HOSTNAME | wc -c"); out != "/usr/share\n13\n" {
		t.Errorf("workdir and hostname = %q", out)
	}
	res := g.try("run", "--rm", "-u", "nobody", "debian:bookworm", "touch", "/root/x")
	if res.code != 1 || !strings.Contains(res.stderr, "Permission denied") {
		t.Errorf("nobody writing /root: %s", res)
	}
}

func TestDoctor(t *testing.T) {
	g := newRootless(t)
	res := g.try("doctor")
	for _, check := range []string{"subids", "newuidmap", "newgidmap", "userns-create", "overlay", "store-fs"} {
		line := ""
		for _, l := range strings.Split(res.stdout, "\n") {
			if strings.HasPrefix(l, check+" ") {
				line = l
			}
		}
		if !strings.Contains(line, " ok ") {
			t.Errorf("doctor row %s = %q, want ok\n%s", check, line, res.stdout)
		}
	}
	acct := lookupAccount(t, noSubIDUser)
	nosub := newGocker(t, &acct)
	out := nosub.try("doctor")
	if out.code != 1 || !strings.Contains(out.stdout, "sudo usermod --add-subuids") {
		t.Errorf("doctor for a user without subordinate ids: %s", out)
	}
	json := g.try("doctor", "--format", "json")
	if !strings.HasPrefix(strings.TrimSpace(json.stdout), "[") || !strings.Contains(json.stdout, `"check": "subids"`) && !strings.Contains(json.stdout, `"check":"subids"`) {
		t.Errorf("doctor --format json = %q", json.stdout)
	}
}

// doctorRow returns the table row of check from doctor's output.
func doctorRow(out, check string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, check+" ") {
			return line
		}
	}
	return ""
}

func TestDoctorHostRows(t *testing.T) {
	user := newRootless(t)
	user.env = append(user.env, "XDG_RUNTIME_DIR=")
	out := user.try("doctor").stdout
	for _, check := range []string{"kernel", "nsenter"} {
		if row := doctorRow(out, check); !strings.Contains(row, " ok ") {
			t.Errorf("user's doctor row %s = %q, want ok\n%s", check, row, out)
		}
	}
	if row := doctorRow(out, "runtime-dir"); !strings.Contains(row, " info ") || !strings.Contains(row, "keeps runtime state in") {
		t.Errorf("user's runtime-dir row without $XDG_RUNTIME_DIR = %q, want info naming the runtime directory", row)
	}
	if row := doctorRow(out, "systemd-user"); !strings.Contains(row, "needed for rootless resource limits") {
		t.Errorf("user's systemd-user row = %q, want it to say the user manager is needed", row)
	}
	// Where dpkg installed pasta, doctor finds a version even when pasta
	// prints none.
	if _, err := exec.LookPath("dpkg-query"); err == nil {
		if row := doctorRow(out, "pasta"); strings.HasSuffix(row, "unknown version") {
			t.Errorf("pasta row = %q, want a version", row)
		}
	}

	// Root's doctor runs in the test's network namespace, so nf_tables is
	// listed there.
	root := newRootful(t)
	out = root.try("doctor").stdout
	for _, check := range []string{"kernel", "nsenter", "nftables"} {
		if row := doctorRow(out, check); !strings.Contains(row, " ok ") {
			t.Errorf("root's doctor row %s = %q, want ok\n%s", check, row, out)
		}
	}
}

func TestDoctorRuntimeDirVariable(t *testing.T) {
	root := newRootful(t)
	// The harness sets $GOCKER_RUNTIME_DIR for root's commands.
	want := "root keeps runtime state in " + filepath.Join(root.runtime, "gocker") + " ($GOCKER_RUNTIME_DIR)"
	out := root.try("doctor").stdout
	if row := doctorRow(out, "runtime-dir"); !strings.Contains(row, " info ") || !strings.Contains(row, want) {
		t.Errorf("root's runtime-dir row = %q, want info with %q", row, want)
	}

	root.env = append(root.env, "GOCKER_RUNTIME_DIR=run")
	out = root.try("doctor").stdout
	if row := doctorRow(out, "runtime-dir"); !strings.Contains(row, " warn ") || !strings.Contains(row, `invalid $GOCKER_RUNTIME_DIR "run"`) {
		t.Errorf("root's runtime-dir row with a relative $GOCKER_RUNTIME_DIR = %q, want a warning", row)
	}
}
