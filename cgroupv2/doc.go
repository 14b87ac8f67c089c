// Package cgroupv2 enforces container resource limits (--memory,
// --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit),
// reports their usage for "gocker stats", and detects what the host
// allows for "gocker doctor".
//
// [Create] gives one container a cgroup, in one of three ways:
//
//   - Rootless on cgroup v2: a transient scope unit gocker-ID.scope in
//     user.slice of the user's systemd manager, started over the
//     manager's private socket (or the user's D-Bus) with Delegate=yes,
//     the container's pid and the limits as unit properties (MemoryMax=,
//     MemorySwapMax=, CPUQuotaPerSecUSec=, CPUWeight=, AllowedCPUs=,
//     TasksMax=). systemd writes them to the scope's interface files
//     before it moves the process in, and again when it reloads, so the
//     process stays in the scope and gocker writes no cgroup file.
//   - Root on cgroup v2: /sys/fs/cgroup/gocker/ID, written directly. gocker
//     creates the parent "gocker" once and keeps it.
//   - Root on hybrid or legacy cgroup v1 hosts: gocker-ID under the
//     caller's cgroup in the memory, cpu, cpuacct and pids hierarchies, and
//     in cpuset for --cpuset-cpus, found in /proc/self/mountinfo.
//
// gocker writes only to cgroups it created, and removes them when the
// container exits; the user manager removes a rootless scope itself.
//
// What the host needs: rootless, cgroup v2 with systemd as init, a user
// manager (user@UID.service, started by a login session or by lingering)
// reachable on its private socket or the user bus, and the controllers delegated to it
// (systemd 252 delegates cpu, memory and pids by default; cpuset needs a
// Delegate= drop-in). Root needs the controllers mounted (v1) or enabled
// in the root cgroup's cgroup.subtree_control (v2). [CheckSupport] reports
// a limit that the host cannot enforce before anything is created, with
// the fixes that "gocker doctor" prints.
//
// Detection reads /sys/fs/cgroup (statfs and cgroup.controllers),
// /proc/self/cgroup, /run/systemd/system, /proc/1/comm, whether
// /etc/default/grub exists, $DBUS_SESSION_BUS_ADDRESS and the user's bus
// socket, and writes nothing. Its paths are those of the calling process as its own
// cgroup namespace shows them, so do not compare them with paths read in
// another cgroup namespace.
//
// Do not use this package for cgroups that other software manages: it
// never adopts an existing cgroup, and it does not freeze, pause or
// update a running container's limits.
package cgroupv2
