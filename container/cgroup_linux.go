package container

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/gocker/gocker/container/initproc"
)

// CgroupHook returns the [Hook] that puts a container with resource
// limits into a cgroup of its own and enforces them there. A container
// without limits gets no cgroup: the hook returns at once.
//
// scope, which may be nil, is the rootless container's systemd scope that
// the caller started ahead of time with [cgroupv2.StartScope].
//
// The hook runs while the init waits for its spec; the init enters a new
// cgroup namespace only after it read the spec, so the namespace's root is
// the container's cgroup. After the container exited, the cleanup records
// an OOM kill in the container's state and removes the cgroup.
func (s *Store) CgroupHook(logger *slog.Logger, scope *cgroupv2.PendingScope) Hook {
	return func(ctx context.Context, c *Container, pid int) (func(context.Context) error, error) {
		if !c.HostConfig.Resources.Limited() {
			return nil, nil
		}
		cg, err := cgroupv2.Create(ctx, cgroupv2.Options{
			ID:        c.ID,
			Pid:       pid,
			Resources: c.HostConfig.Resources,
			Rootless:  c.Rootless,
			Scope:     scope,
			Logger:    logger,
		})
		if err != nil {
			return nil, err
		}
		// gocker exec joins these directories; a restart starts with no
		// OOM kill recorded.
		c.State.Cgroups = cg.Dirs()
		c.State.OOMKilled = false
		return func(ctx context.Context) error {
			start := time.Now()
			defer func() { logger.Debug("cgroup removed", "container", c.ID, "duration", time.Since(start)) }()
			var errs []error
			if cg.OOMKilled() && c.State.Status == StatusExited {
				c.State.OOMKilled = true
				errs = append(errs, s.SaveState(c))
			}
			return errors.Join(append(errs, cg.Remove(ctx))...)
		}, nil
	}
}

// hostCgroupFS reads the host's cgroup layout, which the init mounts on
// the container's /sys/fs/cgroup; nil means the host shows no cgroups.
func hostCgroupFS() (*initproc.CgroupFS, error) {
	mode, err := cgroupv2.DetectMode()
	if err != nil || mode == cgroupv2.ModeUnknown {
		return nil, nil
	}
	if mode == cgroupv2.ModeUnified {
		return &initproc.CgroupFS{Unified: true}, nil
	}
	entries, err := cgroupv2.ReadProcCgroup()
	if err != nil {
		return nil, err
	}
	fs := &initproc.CgroupFS{Hierarchies: make([][]string, 0, len(entries))}
	for _, e := range entries {
		fs.Hierarchies = append(fs.Hierarchies, e.Controllers)
	}
	return fs, nil
}
