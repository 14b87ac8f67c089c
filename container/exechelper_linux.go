package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/reexec"
	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

func init() {
	reexec.Register(execHelperName, execHelperMain)
}

// namespaceFlags maps the names in /proc/PID/ns to setns(2) types.
var namespaceFlags = map[string]int{
	"cgroup": unix.CLONE_NEWCGROUP,
	"ipc":    unix.CLONE_NEWIPC,
	"uts":    unix.CLONE_NEWUTS,
	"net":    unix.CLONE_NEWNET,
	"pid":    unix.CLONE_NEWPID,
	"mnt":    unix.CLONE_NEWNS,
}

// execHelperMain is the exec helper. It runs in the container's user
// namespace (nsenter put it there, unless the container has none of its
// own), from the binary or a sealed copy of it (see execHelperBinary). Its
// argument is the file descriptor of its execSpec.
//
// Joining a mount namespace needs a thread that shares its filesystem
// attributes with no other (unshare(CLONE_FS)). setns(2) of the other
// namespaces, the credentials, the capabilities and no_new_privs are
// per-thread too. So all of it happens on the main thread, locked, and
// the process is forked from that thread, whose state the child inherits,
// as os/exec documents. The helper itself never enters the
// container's PID namespace (setns(2) of a PID namespace moves only later
// children), so no process in the container can see it.
func execHelperMain() {
	runtime.LockOSThread()
	code, err := runExecHelper()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gocker: %v\n", err)
		code = ExitGockerError
		var se *StartError
		if errors.As(err, &se) {
			code = se.Code
		}
	}
	os.Exit(code)
}

func runExecHelper() (int, error) {
	// Non-dumpable as defense in depth: the copy it runs from is sealed
	// anyway.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return 0, os.NewSyscallError("prctl(PR_SET_DUMPABLE)", err)
	}
	// Files that the calling gocker's own caller left open must not
	// reach the process in the container.
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return 0, os.NewSyscallError("close_range", err)
	}
	spec, err := readExecSpec()
	if err != nil {
		return 0, err
	}
	// Read while /proc is still the host's, where /proc/self is the
	// helper; in the container's /proc it names nothing.
	current, err := initproc.LoadCapabilities()
	if err != nil {
		return 0, err
	}
	if err := enterContainer(spec); err != nil {
		return 0, err
	}
	return startExecProcess(spec, current)
}

func readExecSpec() (*execSpec, error) {
	if len(os.Args) < 2 {
		return nil, errors.New("exec helper: missing spec file descriptor")
	}
	fd, err := strconv.Atoi(os.Args[1])
	if err != nil {
		return nil, fmt.Errorf("exec helper: invalid spec file descriptor %q", os.Args[1])
	}
	f := os.NewFile(uintptr(fd), "exec-spec")
	defer f.Close()
	var spec execSpec
	if err := json.NewDecoder(f).Decode(&spec); err != nil {
		return nil, fmt.Errorf("decode exec spec: %w", err)
	}
	return &spec, nil
}

// enterContainer moves the helper into the container's cgroups, then its
// namespaces.
func enterContainer(spec *execSpec) error {
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, dir := range spec.Cgroups {
		path := filepath.Join(dir, "cgroup.procs")
		if err := os.WriteFile(path, pid, 0); err != nil {
			return fmt.Errorf("join the container's cgroup %s: %w", dir, err)
		}
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return os.NewSyscallError("unshare(CLONE_FS)", err)
	}
	for _, ns := range spec.Namespaces {
		err := unix.Setns(ns.FD, namespaceFlags[ns.Type])
		unix.Close(ns.FD)
		if err != nil {
			return fmt.Errorf("join the container's %s namespace: %w", ns.Type, os.NewSyscallError("setns", err))
		}
	}
	return nil
}

// startExecProcess sets up the process as the container init does, forks
// it and, unless it is detached, waits for it and returns its status.
func startExecProcess(spec *execSpec, current capability.Capabilities) (int, error) {
	var master, slave *os.File
	if spec.Tty && !spec.Detach {
		var err error
		if master, slave, err = openExecPty(); err != nil {
			return 0, err
		}
	}
	path, err := prepareExecProcess(spec, current, slave)
	if err != nil {
		return 0, err
	}
	devNull, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}

	// NOTE: the process does not die with gocker exec: it is left to the
	// container's PID 1, which inherits it, as docker exec leaves it.
	// PR_SET_PDEATHSIG is out of reach here, because Go's forked child
	// (syscall.forkAndExecInChild) kills itself when getppid(2) does not
	// return its parent's pid, which it cannot across PID namespaces. A
	// terminal's hangup still ends a shell that gocker exec -t ran.
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, forwardedSignals...)
	// The process inherits the filter from this thread, which has
	// no_new_privs set. The thread only forks, waits, passes signals on
	// and exits after this, which Docker's profile allows.
	// NOTE: a custom profile that blocks wait4(2), kill(2) or the system
	// calls of Go's fork and of the terminal relay breaks gocker exec
	// rather than only the process.
	if err := initproc.InstallSeccomp(spec.Seccomp, 0); err != nil {
		devNull.Close()
		return 0, err
	}
	pid, err := syscall.ForkExec(path, spec.Args, execProcAttr(spec, slave, devNull))
	devNull.Close()
	if err != nil {
		return 0, initproc.ExecError(spec.Args[0], err)
	}
	if spec.Detach {
		return 0, nil
	}

	var tty *terminal
	if master != nil {
		slave.Close()
		if tty, err = relayExecTerminal(master, spec.Interactive); err != nil {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
	go func() {
		for sig := range signals {
			_ = unix.Kill(pid, sig.(unix.Signal))
		}
	}()
	status := waitExecProcess(pid)
	if tty != nil {
		tty.closeWithin(execOutputGrace)
	}
	return status, nil
}

// execProcAttr returns the process's attributes: a session of its own,
// and as stdio the pty's terminal side, the helper's own stdio (stdin only
// with -i), or /dev/null when detached.
func execProcAttr(spec *execSpec, slave, devNull *os.File) *syscall.ProcAttr {
	attr := &syscall.ProcAttr{Env: spec.Env, Sys: &syscall.SysProcAttr{Setsid: true}}
	switch {
	case spec.Detach:
		attr.Files = []uintptr{devNull.Fd(), devNull.Fd(), devNull.Fd()}
	case slave != nil:
		attr.Files = []uintptr{slave.Fd(), slave.Fd(), slave.Fd()}
		attr.Sys.Setctty = true
	default:
		stdin := devNull.Fd()
		if spec.Interactive {
			stdin = 0
		}
		attr.Files = []uintptr{stdin, 1, 2}
	}
	return attr
}

// waitExecProcess waits for pid to exit and returns its exit status.
func waitExecProcess(pid int) int {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	return initproc.ExitStatus(syscall.WaitStatus(ws))
}

// execOutputGrace is how long gocker exec -t keeps copying output after
// its process exited: a background process the command started may hold
// the terminal open for much longer.
const execOutputGrace = 200 * time.Millisecond

// prepareExecProcess gives the helper's thread the container's user,
// capabilities, working directory and no_new_privs, as finishProcess does
// for the init, and returns the executable's path in the container.
func prepareExecProcess(spec *execSpec, current capability.Capabilities, slave *os.File) (string, error) {
	execUser, err := initproc.LookupUser(spec.User)
	if err != nil {
		return "", &StartError{Code: ExitGockerError, Err: err}
	}
	if !initproc.HasEnv(spec.Env, "HOME") {
		spec.Env = append(spec.Env, "HOME="+execUser.Home)
	}
	if slave != nil {
		// Programs that open their terminal by name need to own it.
		if err := slave.Chown(execUser.Uid, execUser.Gid); err != nil {
			return "", fmt.Errorf("give the terminal to the exec user: %w", err)
		}
	}
	caps, err := initproc.ParseCapabilities(spec.Capabilities)
	if err != nil {
		return "", err
	}
	if err := initproc.ApplyBoundingSet(current, caps); err != nil {
		return "", err
	}
	if err := initproc.SwitchUser(execUser); err != nil {
		return "", err
	}
	if execUser.Uid == 0 {
		if err := initproc.LimitRootCapabilities(caps); err != nil {
			return "", err
		}
	}
	if err := unix.Chdir(spec.Cwd); err != nil {
		return "", startErrorf(ExitCannotInvoke, "change to working directory %s: %w", spec.Cwd, err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return "", os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err)
	}
	return initproc.CommandPath(spec.Args, spec.Env)
}

// openExecPty opens a new pty in the container's devpts instance: the
// helper's root is the container's now.
func openExecPty() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: "/dev/pts/ptmx", Err: err}
	}
	// Non-blocking, the master is pollable, so its reads can time out.
	master = os.NewFile(uintptr(fd), "pty-master")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, os.NewSyscallError("unlock pty", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, os.NewSyscallError("get pty number", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("open pty terminal: %w", err)
	}
	return master, slave, nil
}

// relayExecTerminal copies between the caller's terminal and the pty:
// input, in raw mode, only when interactive; the pty's size follows the
// caller's terminal.
func relayExecTerminal(master *os.File, interactive bool) (*terminal, error) {
	if interactive {
		return attachTerminal(master, os.Stdin, os.Stdout, true)
	}
	if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil && term.IsTerminal(int(os.Stdout.Fd())) {
		_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
	}
	return attachTerminal(master, nil, os.Stdout, false)
}
