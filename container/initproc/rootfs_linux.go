package initproc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/gocker/gocker/overlay/volatile"
	"golang.org/x/sys/unix"
)

// setupRootfs mounts the container's root filesystem at spec.MergedDir,
// with its API filesystems, bind mounts and generated /etc files, and
// pivots into it. With spec.Terminal it returns the pty's terminal side.
//
// Everything is mounted inside the init's private mount namespace, so the
// mounts vanish with the container's last process and never reach the host.
func setupRootfs(spec *Spec) (*os.File, error) {
	// Keep the container's mounts from propagating to the host's peers.
	if err := mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, err
	}
	root := spec.MergedDir
	if err := mountOverlay(spec); err != nil {
		return nil, err
	}
	// The mount points of the generated files are resolved before /proc
	// and /dev exist, so that a symlink in the image can only lead them
	// to the image's own files.
	etc, err := openEtcTargets(root, spec)
	if err != nil {
		return nil, err
	}
	defer etc.close()
	if err := mountAPIFilesystems(spec, root, etc); err != nil {
		return nil, err
	}
	if err := maskPaths(root); err != nil {
		return nil, err
	}
	for _, m := range spec.Mounts {
		if err := bindMount(root, m); err != nil {
			return nil, err
		}
	}

	var console *os.File
	if spec.Terminal {
		var err error
		if console, err = openConsole(root, spec.ConsoleRows, spec.ConsoleCols); err != nil {
			return nil, err
		}
	}
	if err := pivotRoot(root); err != nil {
		return nil, err
	}
	if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
		return nil, os.NewSyscallError("sethostname", err)
	}
	// Docker creates a missing working directory, owned by root.
	if err := os.MkdirAll(spec.Cwd, 0o755); err != nil {
		return nil, fmt.Errorf("create working directory: %w", err)
	}
	if spec.ReadOnly {
		if err := makeReadOnly("/", false); err != nil {
			return nil, err
		}
	}
	return console, nil
}

// mountOverlay mounts the image's layers with the container's upper and
// work directories. The init changes into LayersDir first so that lowerdir
// holds short relative paths; the init is a single-purpose process, so
// changing its directory affects nothing else.
func mountOverlay(spec *Spec) error {
	if err := unix.Chdir(spec.LayersDir); err != nil {
		return &os.PathError{Op: "chdir", Path: spec.LayersDir, Err: err}
	}
	data := overlayOptions(spec)
	if len(data) >= os.Getpagesize() {
		return fmt.Errorf("overlay options for %d layers are %d bytes, more than mount(2) accepts (%d)",
			len(spec.Layers), len(data), os.Getpagesize()-1)
	}
	if !spec.Volatile {
		return mount("overlay", spec.MergedDir, "overlay", 0, data)
	}
	// A restarted container finds the marker of its previous mount.
	if err := volatile.ClearMarker(spec.WorkDir); err != nil {
		return fmt.Errorf("clear the overlay work directory: %w", err)
	}
	err := mount("overlay", spec.MergedDir, "overlay", 0, data+","+volatile.Option)
	if errors.Is(err, unix.EINVAL) {
		// Linux before 5.10 has no volatile overlay.
		err = mount("overlay", spec.MergedDir, "overlay", 0, data)
	}
	return err
}

func overlayOptions(spec *Spec) string {
	data := "lowerdir=" + strings.Join(spec.Layers, ":") +
		",upperdir=" + spec.UpperDir + ",workdir=" + spec.WorkDir
	if spec.Rootless {
		// Rootless layers carry user.overlay.* xattrs: trusted.* needs
		// CAP_SYS_ADMIN in the initial user namespace (Linux 5.11+).
		data += ",userxattr"
	}
	return data
}

// resolveInRoot returns the host path of path inside root, with every
// symlink resolved as if root were "/", so a hostile image cannot direct a
// mount outside its root filesystem.
func resolveInRoot(root, path string) (string, error) {
	p, err := securejoin.SecureJoin(root, path)
	if err != nil {
		return "", fmt.Errorf("resolve %s in the container: %w", path, err)
	}
	return p, nil
}

// mkdirTarget creates the directory target (a path resolved in the root).
func mkdirTarget(target string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	return nil
}

// touchTarget creates target as an empty file unless something exists there.
func touchTarget(target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		if errors.Is(err, unix.EISDIR) {
			return nil
		}
		return fmt.Errorf("create mount point: %w", err)
	}
	return f.Close()
}

// etcTargets are the generated /etc files and their mount points in the
// container, opened with O_PATH.
type etcTargets struct {
	files    []EtcFile
	targets  []*os.File
	readOnly bool
}

// openEtcTargets resolves the mount point of each generated /etc file in
// root, creating an empty file where the image has none, and opens it. A
// file that the user bind-mounts (-v FILE:/etc/hosts) is left to the
// user's mount, as in Docker.
func openEtcTargets(root string, spec *Spec) (_ *etcTargets, retErr error) {
	etc := &etcTargets{readOnly: spec.ReadOnly}
	defer func() {
		if retErr != nil {
			etc.close()
		}
	}()
	for _, f := range spec.EtcFiles {
		if userMounts(spec.Mounts, f.Destination) {
			continue
		}
		target, err := resolveInRoot(root, f.Destination)
		if err != nil {
			return nil, err
		}
		if err := touchTarget(target); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Destination, err)
		}
		fd, err := unix.Open(target, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: target, Err: err}
		}
		etc.files = append(etc.files, f)
		etc.targets = append(etc.targets, os.NewFile(uintptr(fd), target))
	}
	return etc, nil
}

// userMounts reports whether one of mounts has the container path dest.
func userMounts(mounts []Mount, dest string) bool {
	for _, m := range mounts {
		if filepath.Clean(m.Destination) == filepath.Clean(dest) {
			return true
		}
	}
	return false
}

func (e *etcTargets) close() {
	for _, f := range e.targets {
		f.Close()
	}
}

// mount writes the files to a small tmpfs at dir, a new directory of the
// container's /dev, bind-mounts each onto its mount point and detaches the
// tmpfs, so the files are reachable only through their mounts. Nothing
// lands in the upper directory, so gocker commit leaves them out, and as
// in Docker the mounts are writable unless the root is read-only.
func (e *etcTargets) mount(dir string) error {
	if len(e.files) == 0 {
		return nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := mount("tmpfs", dir, "tmpfs", nodevFlags, "mode=755,size=64k"); err != nil {
		return err
	}
	for i, f := range e.files {
		src := filepath.Join(dir, filepath.Base(f.Destination))
		if err := os.WriteFile(src, f.Data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.Destination, err)
		}
		if err := bindOnto(src, e.targets[i], e.readOnly); err != nil {
			return fmt.Errorf("mount %s: %w", f.Destination, err)
		}
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return &mountError{op: "unmount", target: dir, err: err}
	}
	return os.Remove(dir)
}

// bindOnto bind-mounts src onto the file that target was opened on, by
// the descriptor, so that nothing mounted since the target was resolved
// changes where the mount goes.
func bindOnto(src string, target *os.File, readOnly bool) error {
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("open_tree", err)
	}
	defer unix.Close(tree)
	if readOnly {
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, attr); err != nil {
			return os.NewSyscallError("mount_setattr", err)
		}
	}
	err = unix.MoveMount(tree, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	return os.NewSyscallError("move_mount", err)
}

// bindMount mounts m.Source from the host on m.Destination in the container.
func bindMount(root string, m Mount) error {
	target, err := resolveInRoot(root, m.Destination)
	if err != nil {
		return err
	}
	st, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("bind mount source: %w", err)
	}
	if st.IsDir() {
		err = mkdirTarget(target)
	} else {
		err = touchTarget(target)
	}
	if err != nil {
		return err
	}
	if err := mount(m.Source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if m.ReadOnly {
		return makeReadOnly(target, true)
	}
	return nil
}

// pivotRoot makes root the process's root directory and detaches the old
// root. pivot_root(".", ".") stacks the old root on top of the new one, so
// unmounting "." right after removes it without a directory to hold it
// (pivot_root(2), "NOTES").
func pivotRoot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return &os.PathError{Op: "chdir", Path: root, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return &os.PathError{Op: "pivot_root", Path: root, Err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &mountError{op: "unmount old root", target: ".", err: err}
	}
	if err := unix.Chdir("/"); err != nil {
		return &os.PathError{Op: "chdir", Path: "/", Err: err}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
