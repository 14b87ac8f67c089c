package overlay

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MountPointLayerPath returns the directory, under dir, of the layer that
// MountPointLayer creates for paths.
func MountPointLayerPath(dir string, paths []string) string {
	sum := sha256.Sum256([]byte(strings.Join(paths, "\n")))
	return filepath.Join(dir, "mountpoints-"+hex.EncodeToString(sum[:6]))
}

// MountPointLayer returns the directory, under dir, of a lower layer that
// holds only empty files at paths (absolute paths in the container), and
// creates it the first time.
//
// Below an image's layers, it provides the mount points of the files that
// the init mounts over (/etc/hosts and the like) where the image lacks
// them. It changes nothing else, because the image's files, /etc's owner
// and mode, an /etc symlink and whiteouts all lie above it. So a start
// creates no mount point in the container's upper directory, which for an
// image without /etc/resolv.conf meant a copy-up of /etc and a new file
// on the host at every start. Docker's per-container init layer serves
// the same purpose. This one is shared, because its content is the same
// for every container, and running containers use it, so it must stay
// while any container exists.
func MountPointLayer(dir string, paths []string) (string, error) {
	layer := MountPointLayerPath(dir, paths)
	if _, err := os.Lstat(layer); err == nil {
		return layer, nil
	}

	// A gocker killed right here leaves a temporary directory of a few
	// empty files, which no command reads.
	tmp, err := os.MkdirTemp(dir, ".tmp-mountpoints-")
	if err != nil {
		return "", fmt.Errorf("create the mount point layer: %w", err)
	}
	if err := fillMountPoints(tmp, paths); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("create the mount point layer: %w", err)
	}

	err = os.Rename(tmp, layer)
	if err != nil {
		_ = os.RemoveAll(tmp)
		// Another gocker created it first.
		if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty) {
			return layer, nil
		}
		return "", fmt.Errorf("create the mount point layer: %w", err)
	}
	return layer, nil
}

// fillMountPoints creates the empty files at paths under tmp. The modes
// are set apart from creation, so that the user's umask cannot make the
// container's /etc unreadable to its other users.
func fillMountPoints(tmp string, paths []string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, p := range paths {
		rel := strings.TrimPrefix(filepath.Clean("/"+p), "/")
		if rel == "" {
			return fmt.Errorf("invalid mount point %q", p)
		}
		parent := tmp
		for _, dir := range strings.Split(filepath.Dir(rel), "/") {
			if dir == "." {
				break
			}
			parent = filepath.Join(parent, dir)
			if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			if err := os.Chmod(parent, 0o755); err != nil {
				return err
			}
		}
		file := filepath.Join(tmp, rel)
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			return err
		}
		if err := os.Chmod(file, 0o644); err != nil {
			return err
		}
	}
	return nil
}
