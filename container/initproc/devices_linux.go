package initproc

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// device is a node of the container's /dev.
type device struct {
	name         string
	major, minor uint32
}

// defaultDevices are the nodes Docker gives every container.
var defaultDevices = []device{
	{"null", 1, 3},
	{"zero", 1, 5},
	{"full", 1, 7},
	{"random", 1, 8},
	{"urandom", 1, 9},
	{"tty", 5, 0},
}

var devSymlinks = []struct{ name, target string }{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
	{"core", "/proc/kcore"},
}

const (
	nodevFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	ttyGID     = 5 // the tty group of Debian, Alpine and busybox images
)

// mountAPIFilesystems mounts /proc, /dev (with pts, shm and mqueue) and
// /sys in the container, and the generated /etc files from a directory of
// /dev. The mount points are resolved inside root like any other, because
// an image may ship them as symlinks.
func mountAPIFilesystems(spec *Spec, root string, etc *etcTargets) error {
	type apiMount struct {
		dest, fstype string
		flags        uintptr
		data         string
	}
	mounts := []apiMount{
		{"/proc", "proc", nodevFlags, ""},
		{"/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
		{"/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, fmt.Sprintf("newinstance,ptmxmode=0666,mode=0620,gid=%d", ttyGID)},
		{"/dev/shm", "tmpfs", nodevFlags, "mode=1777,size=65536k"},
		{"/dev/mqueue", "mqueue", nodevFlags, ""},
	}
	for _, m := range mounts {
		target, err := resolveInRoot(root, m.dest)
		if err != nil {
			return err
		}
		if err := mkdirTarget(target); err != nil {
			return err
		}
		if err := mount(m.fstype, target, m.fstype, m.flags, m.data); err != nil {
			return err
		}
		if m.dest == "/dev" {
			if err := populateDev(spec, target); err != nil {
				return err
			}
			if err := etc.mount(filepath.Join(target, ".gocker-etc")); err != nil {
				return err
			}
		}
	}
	return mountSys(spec, root)
}

// populateDev fills the container's /dev tmpfs. Outside a user namespace
// the nodes are made with mknod; inside one the kernel refuses mknod of
// real devices, so the host's nodes are bind-mounted instead.
func populateDev(spec *Spec, dev string) error {
	for _, d := range defaultDevices {
		path := filepath.Join(dev, d.name)
		if spec.Rootless {
			if err := touchTarget(path); err != nil {
				return err
			}
			if err := mount("/dev/"+d.name, path, "", unix.MS_BIND, ""); err != nil {
				return err
			}
			continue
		}
		if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return &os.PathError{Op: "mknod", Path: path, Err: err}
		}
		// mknod applies the umask.
		if err := unix.Chmod(path, 0o666); err != nil {
			return &os.PathError{Op: "chmod", Path: path, Err: err}
		}
	}
	for _, l := range devSymlinks {
		path := filepath.Join(dev, l.name)
		if err := unix.Symlink(l.target, path); err != nil {
			return &os.PathError{Op: "symlink", Path: path, Err: err}
		}
	}
	return nil
}

// mountSys mounts a read-only /sys. A fresh sysfs needs a network namespace
// owned by the mounting user namespace, so a rootless container on the
// host's network gets a recursive read-only bind of the host's /sys.
func mountSys(spec *Spec, root string) error {
	target, err := resolveInRoot(root, "/sys")
	if err != nil {
		return err
	}
	if err := mkdirTarget(target); err != nil {
		return err
	}
	if spec.Rootless && !spec.NewNetNS {
		if err := mount("/sys", target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
		if err := makeReadOnly(target, true); err != nil {
			return err
		}
	} else if err := mount("sysfs", target, "sysfs", nodevFlags|unix.MS_RDONLY, ""); err != nil {
		return err
	}
	// sysfs has the directory fs/cgroup, so no image path is involved.
	return mountCgroupFS(filepath.Join(target, "fs", "cgroup"), spec.Cgroups)
}

// maskedPaths hides kernel interfaces as Docker's default profile does:
// files get /dev/null mounted over them, directories an empty read-only
// tmpfs.
var maskedPaths = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/sys/devices/virtual/powercap",
	"/sys/firmware",
}

// readOnlyPaths are made read-only as in Docker's default profile.
var readOnlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

func maskPaths(root string) error {
	for _, p := range maskedPaths {
		target := filepath.Join(root, p)
		st, err := os.Lstat(target)
		if err != nil {
			continue // not on this kernel
		}
		if st.IsDir() {
			err = mount("tmpfs", target, "tmpfs", unix.MS_RDONLY, "size=0")
		} else {
			err = mount("/dev/null", target, "", unix.MS_BIND, "")
		}
		if err != nil {
			return err
		}
	}
	for _, p := range readOnlyPaths {
		target := filepath.Join(root, p)
		if !exists(target) {
			continue
		}
		if err := mount(target, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
		if err := makeReadOnly(target, true); err != nil {
			return err
		}
	}
	return nil
}
