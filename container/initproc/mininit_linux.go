package initproc

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// miniInitSignals are the signals the --init init passes on to the
// command. SIGCHLD is its own business, and SIGURG is what the Go runtime
// sends its own threads to preempt goroutines.
var miniInitSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM, unix.SIGPWR,
	unix.SIGWINCH, unix.SIGCONT,
}

// miniInitComm is the --init init's process name, NUL-terminated.
var miniInitComm = []byte("gocker-init\x00")

// runMiniInit is the init of a container run with --init. It stays PID 1
// and runs the command as its child. It passes the signals it receives on
// to the command, reaps every process that the container orphans, and
// exits with the command's status once the command exits. Without it, a command as
// PID 1 ignores every signal it has no handler for and leaves orphans as
// zombies.
//
// It runs on the thread that finishProcess gave the container's user,
// capabilities and no_new_privs, so the command, forked from that thread,
// inherits them.
func runMiniInit(spec *Spec) error {
	path, err := CommandPath(spec.Args, spec.Env)
	if err != nil {
		return err
	}
	// ps shows the name of the path it was executed from otherwise: the
	// number of a file descriptor.
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&miniInitComm[0])), 0, 0, 0)
	signals := make(chan os.Signal, 32)
	signal.Notify(signals, miniInitSignals...)
	children := make(chan os.Signal, 1)
	signal.Notify(children, unix.SIGCHLD)
	// Like Docker's docker-init, the init runs under the container's
	// filter: TSYNC installs it on all of the init's threads, and the
	// command inherits it from this one.
	if err := installSpecSeccomp(spec, unix.SECCOMP_FILTER_FLAG_TSYNC); err != nil {
		return err
	}
	attr := &syscall.ProcAttr{
		Env:   spec.Env,
		Files: []uintptr{0, 1, 2},
		// In a process group of its own, the command gets the
		// terminal's signals (Ctrl-C) once, from the kernel, not
		// again from this init.
		Sys: &syscall.SysProcAttr{Setpgid: true, Foreground: spec.Terminal, Ctty: 0},
	}
	pid, err := syscall.ForkExec(path, spec.Args, attr)
	if err != nil {
		return ExecError(spec.Args[0], err)
	}
	// The command runs. Closing the sync socket reports that to the
	// parent, as the execve(2) does without --init.
	unix.Close(SyncFD)
	os.Exit(superviseChild(pid, signals, children))
	return nil
}

// superviseChild forwards signals to pid and reaps children until pid
// exits, and returns its exit status.
func superviseChild(pid int, signals, children <-chan os.Signal) int {
	for {
		select {
		case sig := <-signals:
			_ = unix.Kill(pid, sig.(unix.Signal))
		case <-children:
			if status, done := reapChildren(pid); done {
				return status
			}
		}
	}
}

// reapChildren collects every exited child and reports the exit status of
// pid once it is among them.
func reapChildren(pid int) (int, bool) {
	for {
		var ws unix.WaitStatus
		reaped, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || reaped <= 0 {
			return 0, false
		}
		if reaped == pid {
			return ExitStatus(syscall.WaitStatus(ws)), true
		}
	}
}
