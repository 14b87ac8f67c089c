package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/reexec"
	"github.com/gocker/gocker/userns"
	"golang.org/x/sys/unix"
)

// LaunchOptions are the settings of a container init that must be known
// before it starts: its namespaces and its stdio.
type LaunchOptions struct {
	// Rootless adds a user namespace mapped with Mapping.
	Rootless bool
	Mapping  userns.Mapping
	// NewNetNS gives the container its own network namespace.
	NewNetNS bool
	// Stdin, Stdout and Stderr become the process's stdio when it has no
	// terminal. A nil Stdin is /dev/null.
	Stdin          *os.File
	Stdout, Stderr *os.File
	// CaptureOutput gives the process pipes as stdout and stderr, in
	// place of Stdout and Stderr, whose read ends the [Process] holds.
	CaptureOutput bool
	// Logger receives the init's log lines; nil discards them.
	Logger *slog.Logger
	// Init starts the init from a sealed copy of the gocker binary,
	// because with --init it stays the container's PID 1.
	Init bool
	// Seccomp, when set, makes LaunchInit compile the container's seccomp
	// filter in the background, while the init starts. Otherwise the
	// start compiles it when it sends the spec.
	Seccomp *SeccompSettings
}

// Launch is a container init that has started and waits for its [Spec].
// Starting the init and writing its id maps (newuidmap and newgidmap take
// a few milliseconds) overlaps with the caller's work on the container's
// record.
type Launch struct {
	cmd        *exec.Cmd
	parentSock *os.File
	specW      *os.File
	logger     *slog.Logger
	maps       chan error // receives once: the result of writing the id maps
	mapsDone   bool       // maps has been received from
	abortOnce  sync.Once
	// stdout and stderr are the read ends of the output pipes, with
	// CaptureOutput.
	stdout, stderr *os.File
	// seccomp is the filter being compiled, when LaunchOptions.Seccomp
	// was set.
	seccomp *pendingSeccomp
	// initPath names the init's binary in errors.
	initPath string
}

// Process is a started container init, which became the container's
// process.
type Process struct {
	cmd *exec.Cmd
	// Pid is the host pid of the container's process.
	Pid int
	// Console is the pty master when the container has a terminal.
	Console *os.File
	// Stdout and Stderr are the read ends of the process's output pipes
	// when it was launched with CaptureOutput.
	Stdout, Stderr *os.File
	// BindListener is the listener of the init's bind notification
	// filter, when the spec asked for one (port_handler=bypass).
	BindListener *os.File
}

// LaunchInit starts a container init in new namespaces and, rootless,
// writes its id maps in the background. The init gets SIGKILL when the
// calling thread exits. Call [Launch.Start] or [Launch.Abort] next.
func LaunchInit(ctx context.Context, opts LaunchOptions) (_ *Launch, retErr error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	l := &Launch{parentSock: os.NewFile(uintptr(fds[0]), "sync-parent"), logger: opts.Logger, maps: make(chan error, 1)}
	defer func() {
		if retErr != nil {
			l.closeFiles()
		}
	}()
	childSock := os.NewFile(uintptr(fds[1]), "sync-child")
	defer childSock.Close()
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer specR.Close()
	l.specW = specW

	initExe := initBinary()
	exe := initExe.file
	if opts.Init {
		if exe, err = initExe.sealed(); err != nil {
			return nil, err
		}
		defer exe.Close()
	}
	l.initPath = initExe.path
	l.cmd = initCommand(opts, initExe.path, childSock, specR, exe)
	if opts.CaptureOutput {
		outW, errW, err := l.captureOutput()
		if err != nil {
			return nil, err
		}
		// The init holds its own copies once it runs.
		defer outW.Close()
		defer errW.Close()
	}
	if err := l.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	pid := l.cmd.Process.Pid
	if opts.Seccomp != nil {
		// The goroutine starts after the init's execve. Until then
		// gocker's memory is shared copy-on-write with the child, so each
		// page it writes is copied, with a TLB flush on the other CPU.
		l.seccomp = compileSeccompAsync(*opts.Seccomp)
	}
	opts.Logger.Debug("started container init", "pid", pid, "rootless", opts.Rootless, "netns", opts.NewNetNS)
	if !opts.Rootless {
		l.maps <- nil
		return l, nil
	}
	go func() {
		start := time.Now()
		err := userns.WriteMaps(ctx, pid, opts.Mapping)
		opts.Logger.Debug("wrote id maps with newuidmap and newgidmap", "pid", pid, "uids", opts.Mapping.UIDs, "gids", opts.Mapping.GIDs, "duration", time.Since(start), "error", err)
		l.maps <- err
	}()
	return l, nil
}

// captureOutput gives the init pipes as stdout and stderr and keeps their
// read ends. It returns the write ends, which the caller closes once the
// init started.
func (l *Launch) captureOutput() (outW, errW *os.File, err error) {
	if l.stdout, outW, err = os.Pipe(); err != nil {
		return nil, nil, err
	}
	if l.stderr, errW, err = os.Pipe(); err != nil {
		outW.Close()
		return nil, nil, err
	}
	l.cmd.Stdout, l.cmd.Stderr = outW, errW
	return outW, errW, nil
}

// exitedEarly returns an error naming the init's binary when the init
// has already exited, which before its spec means the binary is broken,
// and nil while it runs. It leaves the init to be reaped by Abort.
func (l *Launch) exitedEarly() error {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PID, l.cmd.Process.Pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	if err != nil || info.Signo == 0 {
		return nil
	}
	return fmt.Errorf("container init %s exited before it read the spec (\"gocker doctor\" checks the init binary)", l.initPath)
}

// Pid returns the host pid of the init.
func (l *Launch) Pid() int { return l.cmd.Process.Pid }

// Abort kills and reaps the init unless it runs the container's process
// already. It is safe to call more than once.
func (l *Launch) Abort() {
	l.abortOnce.Do(func() {
		_ = l.cmd.Process.Kill()
		if !l.mapsDone {
			<-l.maps
		}
		_ = l.cmd.Wait()
		l.closeFiles()
	})
}

// closeFiles closes the parent's ends of the sync socket, the spec pipe
// and the output pipes.
func (l *Launch) closeFiles() {
	for _, f := range []*os.File{l.parentSock, l.specW, l.stdout, l.stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// Start sends spec to the init once its id maps exist and returns when the
// container's process runs, or with a *StartError when it cannot run.
func (l *Launch) Start(ctx context.Context, spec *Spec) (_ *Process, retErr error) {
	p := &Process{cmd: l.cmd, Pid: l.cmd.Process.Pid, Stdout: l.stdout, Stderr: l.stderr}
	defer func() {
		if retErr != nil {
			l.Abort()
			if p.Console != nil {
				p.Console.Close()
			}
			if p.BindListener != nil {
				p.BindListener.Close()
			}
		}
	}()
	defer l.parentSock.Close()
	defer l.specW.Close()
	// The spec is encoded while newuidmap and newgidmap may still run, so
	// only the write waits for them.
	spec.Debug = l.logger.Enabled(ctx, slog.LevelDebug)
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode the container's spec: %w", err)
	}
	err = <-l.maps
	l.mapsDone = true
	if err != nil {
		return nil, err
	}
	if _, err := l.specW.Write(data); err != nil {
		if early := l.exitedEarly(); early != nil {
			return nil, early
		}
		return nil, fmt.Errorf("send spec to container init: %w", err)
	}
	l.specW.Close()
	l.logger.Debug("sent spec to container init", "pid", p.Pid, "container", spec.ID)
	if err := p.readSync(ctx, l.parentSock, l.logger); err != nil {
		return nil, err
	}
	l.logger.Debug("container process runs", "pid", p.Pid, "args", spec.Args)
	return p, nil
}

// initCommand returns the command of the init: the gocker binary, or with
// exe that file, which the init receives as fd 5 (initproc.ExeFD) and is
// executed from. path names the init's binary in its messages.
func initCommand(opts LaunchOptions, path string, childSock, specR, exe *os.File) *exec.Cmd {
	cmd := exec.Command(reexec.SelfExe)
	cmd.Args = []string{initproc.Name, initproc.BuildID, path}
	cmd.Env = []string{}
	cmd.Stdin = opts.Stdin
	cmd.Stdout = opts.Stdout
	cmd.Stderr = opts.Stderr
	cmd.ExtraFiles = []*os.File{childSock, specR}
	if exe != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, exe)
		// The path is resolved by execve(2) in the child, where
		// /proc/self is the child and fd 5 is exe.
		cmd.Path = fmt.Sprintf("/proc/self/fd/%d", initproc.ExeFD)
	}
	// The cgroup namespace comes later: the init enters one after the
	// parent put it into the container's cgroup (enterCgroupNamespace).
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if opts.NewNetNS {
		flags |= unix.CLONE_NEWNET
	}
	cmd.SysProcAttr = userns.SysProcAttr(flags)
	return cmd
}

// InitBinaryName is the file name of the separate init binary, which
// gocker runs from the directory that holds the gocker binary.
const InitBinaryName = "gocker-init"

// InitBinaryPath returns where gocker looks for the init binary: next to
// the gocker binary that runs, after symlinks.
func InitBinaryPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(exe), InitBinaryName), nil
}

// initExecutable is the binary that containers' inits run from.
type initExecutable struct {
	// file is the init binary, opened once per gocker process, or nil
	// for the gocker binary itself. A monitor keeps it open for the
	// container's life, so restarts run the init it started with even
	// after an upgrade replaced the file (install(1) and mv write a new
	// file in its place).
	file *os.File
	// path names the binary in messages.
	path string
}

// initBinary returns the binary that a container's init runs from: the
// init binary next to gocker's own, when gocker was built with a build id
// and that file can be opened, or else the gocker binary itself. The init
// binary links only the init's code, so it starts in about a third of the
// time that gocker's startup (its runtime and package initialization)
// takes.
var initBinary = sync.OnceValue(func() initExecutable {
	self := initExecutable{path: reexec.SelfExe}
	if initproc.BuildID == "" {
		return self
	}
	path, err := InitBinaryPath()
	if err != nil {
		return self
	}
	if unix.Access(path, unix.X_OK) != nil {
		return self
	}
	f, err := os.Open(path)
	if err != nil {
		// --init needs to read it for the sealed copy.
		return self
	}
	return initExecutable{file: f, path: path}
})

// sealed returns a sealed memfd copy of the init's binary.
func (e initExecutable) sealed() (*os.File, error) {
	if e.file != nil {
		return sealedCopy(e.file, e.path)
	}
	return sealedExecutable(reexec.SelfExe)
}

// readSync handles the init's messages until the sync socket reaches
// end-of-file, which happens when the init executes the container's
// process.
func (p *Process) readSync(ctx context.Context, sock *os.File, log *slog.Logger) error {
	stop := context.AfterFunc(ctx, func() { _ = p.cmd.Process.Kill() })
	defer stop()
	buf := make([]byte, initproc.MaxSyncMessage)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("read from container init", err)
		}
		if n == 0 {
			if ctx.Err() != nil {
				return fmt.Errorf("start container: %w", ctx.Err())
			}
			return nil
		}
		var msg initproc.SyncMessage
		if err := json.Unmarshal(buf[:n], &msg); err != nil {
			return fmt.Errorf("decode message from container init: %w", err)
		}
		if err := p.handleMessage(msg, oob[:oobn], log); err != nil {
			return err
		}
	}
}

func (p *Process) handleMessage(msg initproc.SyncMessage, oob []byte, log *slog.Logger) error {
	switch msg.Type {
	case initproc.MsgError:
		code := msg.Code
		if code == 0 {
			code = ExitGockerError
		}
		return &StartError{Code: code, Err: errors.New(msg.Message)}
	case initproc.MsgLog:
		var level slog.Level
		_ = level.UnmarshalText([]byte(msg.Level))
		log.Log(context.Background(), level, msg.Message, "role", "init")
	case initproc.MsgPTY:
		fd, err := receiveFD(oob)
		if err != nil {
			return err
		}
		// Non-blocking, the master is pollable: closing it ends a read
		// in progress, and reads can time out.
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return os.NewSyscallError("fcntl(O_NONBLOCK)", err)
		}
		p.Console = os.NewFile(uintptr(fd), "pty-master")
	case initproc.MsgBindListener:
		fd, err := receiveFD(oob)
		if err != nil {
			return err
		}
		p.BindListener = os.NewFile(uintptr(fd), "seccomp-bind-listener")
	}
	return nil
}

func receiveFD(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("receive a file from the container init: no file descriptor in the message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("receive a file from the container init: %v", err)
	}
	unix.CloseOnExec(fds[0])
	return fds[0], nil
}

// Signal sends sig to the container's process.
func (p *Process) Signal(sig os.Signal) error {
	return p.cmd.Process.Signal(sig)
}

// Wait waits for the container's process to exit and returns its exit
// status, 128+N when signal N killed it.
func (p *Process) Wait() (int, error) {
	err := p.cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return -1, fmt.Errorf("wait for container: %w", err)
	}
	return initproc.ExitStatus(p.cmd.ProcessState.Sys().(syscall.WaitStatus)), nil
}
