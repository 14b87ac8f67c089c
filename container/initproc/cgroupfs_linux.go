package initproc

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// enterCgroupNamespace moves the init into a new cgroup namespace whose
// root is the cgroup the init is in now: the container's own cgroup once
// the parent's hooks have run, so the container sees it as "/" in
// /proc/self/cgroup and at /sys/fs/cgroup. A namespace made at clone time
// would have its root where gocker was, outside the container's cgroup.
//
// The namespace is a property of the calling thread, which is the thread
// the init stays locked to and executes the container's process from.
func enterCgroupNamespace() error {
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return os.NewSyscallError("unshare(CLONE_NEWCGROUP)", err)
	}
	return nil
}

// CgroupFS is the layout of the host's cgroup hierarchies, which the
// container's /sys/fs/cgroup shows. The parent reads it from its own mounts
// and /proc/self/cgroup.
type CgroupFS struct {
	// Unified means cgroup v2 alone, mounted as cgroup2.
	Unified bool `json:"unified,omitempty"`
	// Hierarchies lists the controllers of each line of
	// /proc/self/cgroup, such as ["cpu", "cpuacct"] or
	// ["name=systemd"], where the host has v1 hierarchies; an empty
	// list is the cgroup2 hierarchy of a hybrid host.
	Hierarchies [][]string `json:"hierarchies,omitempty"`
}

// mountCgroupFS mounts the container's cgroups read-only on the
// container's /sys/fs/cgroup, target: cgroup2 where the host has cgroup
// v2, or, as Docker shows cgroup v1, a tmpfs with one directory per v1
// hierarchy (symlinks name each controller of a comounted one) and
// cgroup2 at "unified" on hybrid hosts. Each shows the init's cgroup
// namespace, so its root is the container's cgroup. A nil fs (a host
// without cgroups) mounts nothing.
func mountCgroupFS(target string, fs *CgroupFS) error {
	if fs == nil {
		return nil
	}
	if fs.Unified {
		return mount("cgroup2", target, "cgroup2", nodevFlags|unix.MS_RDONLY, "")
	}
	if err := mount("tmpfs", target, "tmpfs", nodevFlags, "mode=755,size=64k"); err != nil {
		return err
	}
	for _, controllers := range fs.Hierarchies {
		if err := mountHierarchy(target, controllers); err != nil {
			return err
		}
	}
	return makeReadOnly(target, false)
}

// mountHierarchy mounts the hierarchy of one line of /proc/self/cgroup,
// with its controllers, under dir.
func mountHierarchy(dir string, controllers []string) error {
	if len(controllers) == 0 {
		return mountAt(filepath.Join(dir, "unified"), "cgroup2", "")
	}
	name := strings.Join(controllers, ",")
	options := name
	if n, ok := strings.CutPrefix(name, "name="); ok {
		name, options = n, "none,"+name
	}
	if err := mountAt(filepath.Join(dir, name), "cgroup", options); err != nil {
		return err
	}
	if len(controllers) > 1 {
		for _, c := range controllers {
			if err := unix.Symlink(name, filepath.Join(dir, c)); err != nil {
				return &os.PathError{Op: "symlink", Path: filepath.Join(dir, c), Err: err}
			}
		}
	}
	return nil
}

func mountAt(target, fstype, options string) error {
	if err := os.Mkdir(target, 0o755); err != nil {
		return &os.PathError{Op: "mkdir", Path: target, Err: err}
	}
	return mount("cgroup", target, fstype, nodevFlags|unix.MS_RDONLY, options)
}
