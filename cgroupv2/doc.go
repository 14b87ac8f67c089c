// Package cgroupv2 will enforce container resource limits (--memory,
// --cpus, --cpu-shares, --pids-limit) and report their stats. Rootless
// containers will get a systemd transient scope with delegation, created
// over the user's D-Bus. Root will write cgroup v2 directly, or cgroup v1
// controllers on hybrid hosts. Those managers are not built yet.
//
// Today the package provides detection for "gocker doctor": how the host
// mounts cgroups (unified v2, hybrid or legacy v1) and which cgroup the
// calling process is in. It also finds the controllers available or
// delegated to the calling user, and whether the user's systemd manager
// can be reached.
//
// Detection reads /sys/fs/cgroup (statfs and cgroup.controllers),
// /proc/self/cgroup, /run/systemd/system and $XDG_RUNTIME_DIR/bus, and
// writes nothing. Rootless limits need cgroup v2, systemd as init, a
// running user manager (user@UID.service, started by a login session or
// by lingering) and the cpu, memory and pids controllers delegated to it.
//
// Do not use this package to create or limit cgroups yet, because it only
// reads. Its paths are those of the calling process as its own cgroup
// namespace shows them, so do not compare them with paths read in another
// cgroup namespace.
package cgroupv2
