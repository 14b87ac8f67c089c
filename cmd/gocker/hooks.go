package main

import (
	"log/slog"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/gocker/gocker/container"
)

// containerHooks returns the hooks that set up host-side resources
// (network, cgroup) in the namespaces of container ctr's init. gocker run
// in the foreground and the detached monitor both take their hooks from
// here, so a hook added here serves both; the monitor runs them again at
// every restart.
//
// scope is a systemd scope that gocker run started for a rootless
// container with limits before its record existed; nil lets the cgroup
// hook start one.
func containerHooks(st *stores, ctr *container.Container, scope *cgroupv2.PendingScope) []container.Hook {
	// The cgroup comes first, so that the init is in its cgroup before
	// anything else runs for it.
	return []container.Hook{
		st.containers.CgroupHook(slog.Default(), scope),
		networkHook(st, slog.Default()),
	}
}
