package container

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenStoreMarksTopDir(t *testing.T) {
	root := t.TempDir()
	flags, err := dirFlags(root)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("the filesystem of %s has no inode attributes (%v)", root, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(root); err != nil {
		t.Fatal(err)
	}
	got, err := dirFlags(filepath.Join(root, "containers"))
	if err != nil {
		t.Fatal(err)
	}
	if got&fsTopdirFL == 0 {
		if err := unix.IoctlSetPointerInt(probeFd(t, root), unix.FS_IOC_SETFLAGS, int(flags|fsTopdirFL)); err != nil {
			t.Skipf("the filesystem of %s refuses the top-directory attribute: %v", root, err)
		}
		t.Errorf("containers directory attributes %#x lack FS_TOPDIR_FL", got)
	}
	// Opening again keeps the attribute and the others.
	if _, err := OpenStore(root); err != nil {
		t.Fatal(err)
	}
	if again, _ := dirFlags(filepath.Join(root, "containers")); again != got {
		t.Errorf("attributes changed from %#x to %#x on the second open", got, again)
	}
}

func dirFlags(dir string) (uint32, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
}

// probeFd opens dir for the test's own probe of the attribute.
func probeFd(t *testing.T, dir string) int {
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return int(f.Fd())
}
