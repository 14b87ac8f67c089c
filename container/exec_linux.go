package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/gocker/gocker/cgroupv2"

	"github.com/gocker/gocker/reexec"
	"golang.org/x/sys/unix"
)

// execHelperName is the name of the exec helper entry point.
const execHelperName = "gocker-exec"

// execNamespaceTypes are the namespaces gocker exec joins besides the user
// namespace, in the order the helper joins them. The mount namespace comes
// last because joining it changes the helper's root directory.
var execNamespaceTypes = []string{"cgroup", "ipc", "uts", "net", "pid", "mnt"}

// attachToScopes moves this process into the cgroups of dirs that are
// systemd scopes of the user's manager, and returns the others, which the
// helper joins by writing cgroup.procs.
func attachToScopes(ctx context.Context, dirs []string) ([]string, error) {
	var rest []string
	for _, dir := range dirs {
		attached, err := cgroupv2.AttachToScope(ctx, dir, os.Getpid())
		if err != nil {
			return nil, err
		}
		if !attached {
			rest = append(rest, dir)
		}
	}
	return rest, nil
}

// Exec runs a process in the running container c. On success it does not
// return: the calling process becomes the exec helper, which starts the
// process in the container and exits with its exit status.
//
// The chain is gocker (this process), then nsenter from util-linux, which
// joins the container's user namespace (a Go process, having threads,
// cannot), then the helper, executed from a sealed memfd copy of the
// binary, which joins the other namespaces and the cgroups on a locked
// thread and forks the process into them. A container that shares the
// caller's user namespace (one that root runs) skips nsenter.
func (s *Store) Exec(ctx context.Context, c *Container, opts ExecOptions) error {
	if !c.State.Running() || !processMatches(c.State.Pid, c.State.PidStartTime) {
		return fmt.Errorf("%w: %s: start it with \"gocker start %s\"", ErrNotRunning, c.Name, c.Name)
	}
	caps, err := Capabilities(c.HostConfig.CapAdd, c.HostConfig.CapDrop)
	if err != nil {
		return err
	}
	// The process gets the container's filter, as in Docker.
	filter, err := seccompFilter(c.HostConfig, caps, s.seccompCacheDir())
	if err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	spec := newExecSpec(c, opts, caps, filter)
	if c.Rootless {
		// The helper is this process after execve(2), so it is in the
		// container's scope before it joins any namespace.
		if spec.Cgroups, err = attachToScopes(ctx, spec.Cgroups); err != nil {
			return err
		}
	}
	// Every file below must stay open until execve(2).
	var keep []*os.File
	defer func() {
		for _, f := range keep {
			f.Close()
		}
	}()
	pid := c.State.Pid
	userNS, err := openNamespace(pid, "user")
	if err != nil {
		return err
	}
	if userNS != nil {
		keep = append(keep, userNS)
	}
	for _, typ := range execNamespaceTypes {
		f, err := openNamespace(pid, typ)
		if err != nil {
			return err
		}
		if f == nil {
			continue
		}
		keep = append(keep, f)
		spec.Namespaces = append(spec.Namespaces, execNamespace{Type: typ, FD: int(f.Fd())})
	}
	// The namespace files were opened through the pid; the container's
	// process still being the recorded one proves they are its own.
	if !processMatches(pid, c.State.PidStartTime) {
		return &StartError{Code: ExitGockerError, Err: fmt.Errorf("%w: %s exited", ErrNotRunning, c.Name)}
	}
	exe, err := execHelperBinary(pid, userNS != nil)
	if err != nil {
		return err
	}
	keep = append(keep, exe)
	specFile, err := writeExecSpec(spec)
	if err != nil {
		return err
	}
	keep = append(keep, specFile)
	for _, f := range keep {
		if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
			return os.NewSyscallError("fcntl(F_SETFD)", err)
		}
	}
	helper := fmt.Sprintf("/proc/self/fd/%d", exe.Fd())
	specArg := strconv.Itoa(int(specFile.Fd()))
	if userNS == nil {
		return execve(helper, []string{execHelperName, specArg})
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return fmt.Errorf("nsenter not found in $PATH: gocker exec needs it to join a rootless container's user namespace; install util-linux")
	}
	// nsenter executes the helper with argv[0] set to the helper's path,
	// so the entry point's name follows it; see reexec.Init.
	return execve(nsenter, []string{
		"nsenter", fmt.Sprintf("--user=/proc/self/fd/%d", userNS.Fd()), "--preserve-credentials", "--",
		helper, execHelperName, specArg,
	})
}

// openNamespace opens /proc/PID/ns/TYPE, or returns nil when the process
// is in the caller's namespace of that type, which there is nothing to
// join (and joining the host's network namespace from a user namespace
// would fail).
func openNamespace(pid int, typ string) (*os.File, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
	if err != nil {
		return nil, fmt.Errorf("open the container's %s namespace: %w", typ, err)
	}
	theirs, err1 := f.Stat()
	ours, err2 := os.Stat("/proc/self/ns/" + typ)
	if err1 == nil && err2 == nil && os.SameFile(theirs, ours) {
		f.Close()
		return nil, nil
	}
	return f, nil
}

// execHelperBinary opens the binary the exec helper runs from: a sealed
// copy when a process in the container could write the gocker binary
// through the helper's /proc/PID/exe, else the binary itself, which spares
// the copy (a few milliseconds for a binary of several MiB).
func execHelperBinary(pid int, ownUserNS bool) (*os.File, error) {
	if !ownUserNS || binaryWritableFrom(pid) {
		return sealedExecutable(reexec.SelfExe)
	}
	f, err := os.Open(reexec.SelfExe)
	if err != nil {
		return nil, fmt.Errorf("open the gocker binary: %w", err)
	}
	return f, nil
}

// binaryWritableFrom reports whether root in the user namespace of
// process pid could write the running gocker binary: when the binary
// has group or other write permission, or its owner is an id that the
// namespace maps (root there has CAP_DAC_OVERRIDE over such files, and
// the owner may change the mode). A binary that root or another user owns,
// as when it is installed in /usr/local/bin, is out of a rootless
// container's reach. It answers true when it cannot tell.
func binaryWritableFrom(pid int) bool {
	st, err := os.Stat(reexec.SelfExe)
	if err != nil {
		return true
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || st.Mode().Perm()&0o022 != 0 {
		return true
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
	if err != nil {
		return true
	}
	return idMapped(string(data), sys.Uid)
}

// idMapped reports whether host id hostID appears in the outside column
// of an id map as /proc/PID/uid_map shows it.
func idMapped(idMap string, hostID uint32) bool {
	for _, line := range strings.Split(idMap, "\n") {
		var inside, outside, count uint64
		if n, _ := fmt.Sscan(line, &inside, &outside, &count); n != 3 {
			continue
		}
		if uint64(hostID) >= outside && uint64(hostID) < outside+count {
			return true
		}
	}
	return false
}

// writeExecSpec returns a memfd holding spec as JSON, positioned at its
// start. A memfd, unlike a pipe, holds any size without a reader.
func writeExecSpec(spec *execSpec) (*os.File, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("gocker-exec-spec", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	f := os.NewFile(uintptr(fd), "exec-spec")
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// execve replaces the calling process with path. The environment is
// empty: the helper takes the process's environment from its spec.
func execve(path string, argv []string) error {
	err := syscall.Exec(path, argv, []string{})
	return fmt.Errorf("execute %s: %w", path, err)
}
