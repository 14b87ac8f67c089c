// Package volatile has the overlay mount option that never syncs the upper
// filesystem, for containers removed when they exit, and clears the marker
// such a mount leaves so that the work directory can be mounted again.
package volatile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Option is the mount option that stops overlay from syncing its
// upper filesystem: neither syncfs(2) nor the unmount flushes it. The exit
// of a container's last process unmounts the overlay. Without the option,
// that unmount writes back every dirty inode of the filesystem that holds
// the store, not only the container's, and the exit waits for it.
//
// A volatile overlay leaves the directory incompat/volatile in its work
// directory, and the kernel refuses to mount that work directory again,
// volatile or not, while the directory exists: after a crash the upper
// directory may have lost writes. Use it only for containers whose files
// are removed when they exit.
const Option = "volatile"

// ClearMarker removes the incompat directory that a volatile mount
// left in workDir, the overlay's work directory. The kernel then mounts
// that work directory again. The kernel creates these directories with
// mode 0, owned by the user that mounted the overlay, so os.RemoveAll
// cannot delete them as they are. A work directory without the marker is
// left as it is.
func ClearMarker(workDir string) error {
	inner := filepath.Join(workDir, "work")
	incompat := filepath.Join(inner, "incompat")
	for _, dir := range []string{inner, incompat, filepath.Join(incompat, "volatile")} {
		if err := os.Chmod(dir, 0o700); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
	}
	return os.RemoveAll(incompat)
}
