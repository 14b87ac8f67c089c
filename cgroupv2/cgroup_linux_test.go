package cgroupv2

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCreateAsRoot creates a real cgroup for a sleeping child with memory,
// CPU and pids limits, checks the child's cgroups and pids.max, and removes
// it. It runs as root on cgroup v1 and v2 hosts. The systemd guest
// (test/vm) covers rootless scopes.
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

func TestCreateRemovesStaleCgroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it creates cgroups")
	}
	mode, err := DetectMode()
	if err != nil || mode == ModeUnknown {
		t.Skipf("needs cgroups at %s: %v", Root, err)
	}
	// A cgroup left by a killed gocker: created, filled, never removed.
	create := func(id string) (Cgroup, *exec.Cmd) {
		child := exec.Command("sleep", "60")
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		cg, err := Create(context.Background(), Options{ID: id, Pid: child.Process.Pid, Resources: Resources{PidsLimit: 5}})
		if err != nil {
			_ = child.Process.Kill()
			_ = child.Wait()
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = child.Process.Kill()
			_ = child.Wait()
			_ = cg.Remove(context.Background())
		})
		return cg, child
	}
	stale, child := create("unit-test-stale-" + strconv.Itoa(os.Getpid()))
	_ = child.Process.Kill()
	_ = child.Wait()
	old := time.Now().Add(-2 * staleAge)
	for _, dir := range stale.Dirs() {
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Skipf("cannot age %s: %v", dir, err)
		}
	}
	fresh, _ := create("unit-test-fresh-" + strconv.Itoa(os.Getpid()))
	for _, dir := range stale.Dirs() {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("stale cgroup %s remains after the next Create", dir)
		}
	}
	for _, dir := range fresh.Dirs() {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("the new cgroup %s is missing: %v", dir, err)
		}
	}
}
