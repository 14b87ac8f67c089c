package cgroupv2

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCreateAsRoot creates a real cgroup for a sleeping child with every
// limit, checks the child's cgroups and the files, and removes it. It runs
// as root on cgroup v1 and v2 hosts; rootless scopes are covered by the
// systemd guest (test/vm).
func TestCreateAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it creates cgroups")
	}
	mode, err := DetectMode()
	if err != nil || mode == ModeUnknown {
		t.Skipf("needs cgroups at %s: %v", Root, err)
	}
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	})
	r := Resources{Memory: 64 << 20, NanoCPUs: 5e8, PidsLimit: 7}
	cg, err := Create(context.Background(), Options{ID: "unit-test-" + strconv.Itoa(os.Getpid()), Pid: child.Process.Pid, Resources: r})
	if err != nil {
		t.Fatal(err)
	}
	dirs := cg.Dirs()
	if len(dirs) == 0 {
		t.Fatal("Create returned no cgroup directories")
	}
	for _, dir := range dirs {
		procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || strings.TrimSpace(string(procs)) != strconv.Itoa(child.Process.Pid) {
			t.Errorf("%s/cgroup.procs = %q, %v; want the child's pid %d", dir, procs, err, child.Process.Pid)
		}
	}
	pidsFile := filepath.Join(dirs[0], "pids.max")
	if mode != ModeUnified {
		pidsFile = ""
		for _, dir := range dirs {
			if strings.Contains(dir, "/pids/") {
				pidsFile = filepath.Join(dir, "pids.max")
			}
		}
	}
	if got, err := os.ReadFile(pidsFile); err != nil || strings.TrimSpace(string(got)) != "7" {
		t.Errorf("%s = %q, %v; want 7", pidsFile, got, err)
	}
	if cg.OOMKilled() {
		t.Error("OOMKilled is true for a sleeping process")
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	if err := cg.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s remains after Remove", dir)
		}
	}
}

func TestCreateRejectsBadID(t *testing.T) {
	for _, id := range []string{"", "../x", "a/b", "a b", strings.Repeat("a", 129)} {
		if _, err := Create(context.Background(), Options{ID: id, Pid: 1, Resources: Resources{PidsLimit: 1}}); err == nil {
			t.Errorf("Create accepted the id %q", id)
		}
	}
}
