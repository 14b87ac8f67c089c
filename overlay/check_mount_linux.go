package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gocker/gocker/hostcheck"
	"golang.org/x/sys/unix"
)

// Files of the mount check, relative to the check directory.
const (
	checkFile    = "file"
	checkContent = "lower\n"
	checkDir     = "dir"
	checkInner   = "dir/inner"
	checkWritten = "written"
)

// tryOverlay mounts overlay in the current directory and checks, through
// the merged directory, four things a container needs. A lower file must
// show and a new file must land in upper. A removed lower file must leave
// a whiteout, and a directory recreated over a lower one must be opaque.
func tryOverlay(userXattr bool) error {
	if err := prepareLayers(); err != nil {
		return err
	}
	opts := mountCheckOptions(userXattr)
	if err := unix.Mount("overlay", "merged", "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay with %s: %s", opts, hostcheck.ErrnoText(err))
	}
	defer releaseOverlay()
	for _, step := range []func(bool) error{checkLowerShows, checkWriteLands, checkWhiteout, checkOpaque} {
		if err := step(userXattr); err != nil {
			return err
		}
	}
	return nil
}

// releaseOverlay unmounts the check's overlay. The mount would also go
// with the helper's mount namespace, but overlay leaves a whiteout in
// work/work, a directory of mode 0000 that an unprivileged caller cannot
// list, and so cannot remove, until the mode allows it.
func releaseOverlay() {
	_ = unix.Unmount("merged", 0)
	_ = os.Chmod("work/work", 0o700)
}

func prepareLayers() error {
	for _, dir := range []string{"lower", "upper", "work", "merged", "lower/" + checkDir} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile("lower/"+checkFile, []byte(checkContent), 0o644); err != nil {
		return err
	}
	return os.WriteFile("lower/"+checkInner, nil, 0o644)
}

func checkLowerShows(bool) error {
	data, err := os.ReadFile("merged/" + checkFile)
	if err != nil {
		return fmt.Errorf("lower file does not show in the merged directory: %w", err)
	}
	if !bytes.Equal(data, []byte(checkContent)) {
		return fmt.Errorf("lower file reads %q through the merged directory, want %q", data, checkContent)
	}
	return nil
}

func checkWriteLands(bool) error {
	if err := os.WriteFile("merged/"+checkWritten, []byte("upper\n"), 0o644); err != nil {
		return fmt.Errorf("write through the merged directory: %w", err)
	}
	if _, err := os.Stat("upper/" + checkWritten); err != nil {
		return fmt.Errorf("a file written through the merged directory is not in upper: %w", err)
	}
	if _, err := os.Stat("lower/" + checkWritten); !errors.Is(err, fs.ErrNotExist) {
		return errors.New("a file written through the merged directory appeared in lower")
	}
	return nil
}

func checkWhiteout(bool) error {
	if err := os.Remove("merged/" + checkFile); err != nil {
		return fmt.Errorf("remove a lower file through the merged directory: %w", err)
	}
	fi, err := os.Lstat("upper/" + checkFile)
	if err != nil {
		return fmt.Errorf("removing a lower file left no whiteout in upper: %w", err)
	}
	if !IsWhiteout(fi) {
		return fmt.Errorf("removing a lower file left %s in upper, not a 0/0 character device", fi.Mode())
	}
	return nil
}

func checkOpaque(userXattr bool) error {
	if err := os.RemoveAll("merged/" + checkDir); err != nil {
		return fmt.Errorf("remove a lower directory through the merged directory: %w", err)
	}
	if err := os.Mkdir("merged/"+checkDir, 0o755); err != nil {
		return fmt.Errorf("recreate a directory through the merged directory: %w", err)
	}
	opaque, err := IsOpaque("upper/"+checkDir, userXattr)
	if err != nil {
		return err
	}
	if !opaque {
		return fmt.Errorf("a recreated directory in upper lacks %s", OpaqueXattr(userXattr))
	}
	if _, err := os.Lstat("merged/" + checkInner); !errors.Is(err, fs.ErrNotExist) {
		return errors.New("a recreated directory still shows the lower directory's files")
	}
	return nil
}
