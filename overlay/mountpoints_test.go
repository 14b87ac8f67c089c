package overlay

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

func TestMountPointLayer(t *testing.T) {
	dir := t.TempDir()
	paths := []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}
	// A restrictive umask must not leak into the container's /etc.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)

	const starts = 8
	names := make([]string, starts)
	var wg sync.WaitGroup
	for i := range starts {
		wg.Go(func() {
			name, err := MountPointLayer(dir, paths)
			if err != nil {
				t.Error(err)
			}
			names[i] = name
		})
	}
	wg.Wait()
	for _, n := range names[1:] {
		if n != names[0] {
			t.Fatalf("concurrent calls returned %q and %q", names[0], n)
		}
	}
	layer := names[0]
	if filepath.Dir(layer) != dir {
		t.Errorf("layer %s is not in %s", layer, dir)
	}
	want := map[string]os.FileMode{
		".":               os.ModeDir | 0o755,
		"etc":             os.ModeDir | 0o755,
		"etc/hosts":       0o644,
		"etc/hostname":    0o644,
		"etc/resolv.conf": 0o644,
	}
	got := map[string]os.FileMode{}
	err := filepath.Walk(layer, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(layer, path)
		got[rel] = info.Mode()
		if !info.IsDir() && info.Size() != 0 {
			t.Errorf("%s has %d bytes, want an empty file", rel, info.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("layer holds %v, want %v", got, want)
	}
	for rel, mode := range want {
		if got[rel] != mode {
			t.Errorf("%s: mode %v, want %v", rel, got[rel], mode)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%s holds %d entries after concurrent creation, want 1 (no temporary directory left)", dir, len(entries))
	}

	other, err := MountPointLayer(dir, []string{"/etc/hosts"})
	if err != nil {
		t.Fatal(err)
	}
	if other == names[0] {
		t.Errorf("another list of paths got the same layer %q", other)
	}
}

func TestMountPointLayerRejectsRoot(t *testing.T) {
	dir := t.TempDir()
	if _, err := MountPointLayer(dir, []string{"/"}); err == nil {
		t.Fatal("a mount point at / was accepted")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("a failed creation left %d entries", len(entries))
	}
}
