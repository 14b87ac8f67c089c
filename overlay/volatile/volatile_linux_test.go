package volatile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClearMarker(t *testing.T) {
	work := t.TempDir()
	inner := filepath.Join(work, "work")
	volatile := filepath.Join(inner, "incompat", "volatile")
	if err := os.MkdirAll(volatile, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(volatile, "dirty"), nil, 0); err != nil {
		t.Fatal(err)
	}
	// The kernel creates these directories with mode 0.
	for _, dir := range []string{volatile, filepath.Dir(volatile), inner} {
		if err := os.Chmod(dir, 0); err != nil {
			t.Fatal(err)
		}
	}

	if err := ClearMarker(work); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(inner)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("left in %s: %v", inner, entries)
	}

	// Without a marker, and without a work directory at all, it does
	// nothing.
	if err := ClearMarker(work); err != nil {
		t.Errorf("second call: %v", err)
	}
	if err := ClearMarker(filepath.Join(work, "missing")); err != nil {
		t.Errorf("missing work directory: %v", err)
	}
}
