// Package container creates, runs and controls containers: their records
// in the store (see [Store]), the init that builds a container inside its
// namespaces, the monitor that owns a running container, and the commands
// that act on one from outside: logs, exec, stop, kill, wait, inspect and
// top.
//
// # Processes
//
// A container is a tree of processes with one owner, its monitor:
//
//	gocker run (foreground)        the monitor is the gocker command itself
//	gocker run -d, gocker start    gocker-monitor: the binary executed again,
//	                               in a session of its own, stdio /dev/null
//	  └─ init (new namespaces)     builds the root filesystem, then executes
//	      └─ the command           the container's command in its place
//
// The monitor holds the container's monitor lock (flock(2) on
// monitor.lock) for as long as it owns the container, through restarts,
// and other commands tell a running container by that lock. The kernel
// releases it when the monitor dies, even by SIGKILL, so no stale lock can
// outlive a monitor. The monitor also records the pid and start time of
// itself and of the container's process, so that a command never signals
// or joins a recycled pid. The init gets SIGKILL when the monitor dies
// (PR_SET_PDEATHSIG, set again after each credential change). The kernel
// kills every process of a PID namespace with its PID 1, so a killed
// monitor takes its container with it. ps then shows the container as
// exited with 137, and rm -f removes it.
//
// NOTE: the cleanups of the hooks of a monitor killed by SIGKILL never
// run: whatever a hook set up on the host and did not tie to the
// container's namespaces stays behind.
//
// The detached monitor writes the container's output to json.log (see
// jsonlog.go) and records each exit. It restarts the container when its
// restart policy requires, after Docker's growing delay, and removes a
// container run with --rm. It is gocker's only long-lived process per container, so it
// keeps its memory small: it needs no periodic garbage collection, since
// it allocates nothing per line of output, and once the container runs
// it drops from its page tables the pages of the binary that start-up
// touched (package internal/memtrim).
//
// # Exec
//
// gocker exec joins a running container in three steps:
//
//	gocker exec          checks that the container runs, opens the namespace
//	                     files of its process, writes the exec spec to a memfd
//	  execve nsenter     --user=/proc/self/fd/N --preserve-credentials:
//	                     joins the container's user namespace, which a Go
//	                     process cannot do once it has threads
//	  execve helper      gocker-exec, from the binary opened before: on its
//	                     locked main thread it joins the cgroups, then the
//	                     cgroup, IPC, UTS, network, PID and mount namespaces
//	                     (after unshare(CLONE_FS)), takes the container's
//	                     user, capabilities and no_new_privs, and forks the
//	                     command, which inherits all of it from that thread
//
// A container that shares the caller's user namespace (one root runs)
// skips nsenter. The helper stays the parent of the command, outside the
// container's PID namespace, relays a terminal when there is one, passes
// signals on, and exits with the command's status. Nothing from the image
// is used but the command.
//
// # Keeping the gocker binary out of the container's reach
//
// runc's CVE-2019-5736 let a process in a container open /proc/PID/exe of
// a runtime process that joined the container, and write the runtime's
// binary through it once that process had exited. Rootless, the
// container's root is the user who owns a gocker binary in, say, ~/bin, so
// the same would work here. Three facts keep every gocker binary that a
// container process can see out of its reach:
//
//   - The exec helper never enters the container's PID namespace, so no
//     process in the container sees it. The command it forks is visible
//     from its fork to its execve(2), while its /proc/PID/exe is still the
//     helper's binary; that binary is a memfd copy of gocker, sealed
//     against writing (F_SEAL_WRITE, F_SEAL_GROW, F_SEAL_SHRINK, F_SEAL_SEAL),
//     whenever the container's root could write the binary on disk: its
//     owner mapped in the container, or group or other write permission, or
//     a container without a user namespace of its own, whose root may
//     write any file. A binary that root owns is used directly, which
//     spares the copy (sealedExecutable, execHelperBinary). The helper is
//     also non-dumpable, so /proc/PID/exe of its child needs CAP_SYS_PTRACE
//     over it in the first place.
//   - With --init, the init stays the container's PID 1, visible for the
//     container's life, so it always runs from a sealed memfd copy, and is
//     non-dumpable.
//   - Without --init, the init runs gocker-init (or the gocker binary, see
//     initBinary) until it executes the container's command. No other
//     process is in its PID namespace then, because gocker exec joins only
//     a container whose process runs, and that is recorded after the
//     execve. The init also makes itself non-dumpable once the id maps
//     exist.
//
// The test TestExecCannotReachGockerBinary runs a probe in a container with
// CAP_SYS_PTRACE, which tries to open and write every gocker binary it sees
// while gocker exec runs from a binary the container's root could write.
//
// # Host requirements
//
// Linux 5.12 or later (mount_setattr(2); pidfd_open(2) and close_range(2)
// are older), and rootless: newuidmap and newgidmap, and nsenter from
// util-linux for gocker exec. Memfds must be executable, which
// vm.memfd_noexec=2 forbids.
//
// Do not use this package to manage containers of another store or user:
// every record, lock and monitor belongs to one store root.
package container
