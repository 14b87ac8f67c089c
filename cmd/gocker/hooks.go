package main

import (
	"log/slog"

	"github.com/gocker/gocker/container"
)

// containerHooks returns the hooks that set up host-side resources
// (network, cgroup) in the namespaces of container ctr's init. gocker run
// in the foreground and the detached monitor both take their hooks from
// here, so a hook added here serves both; the monitor runs them again at
// every restart.
func containerHooks(st *stores, ctr *container.Container) []container.Hook {
	return []container.Hook{networkHook(st, slog.Default())}
}
