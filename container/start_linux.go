package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"

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
	// Logger receives the init's log lines; nil discards them.
	Logger *slog.Logger
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
}

// Process is a started container init, which became the container's
// process.
type Process struct {
	cmd *exec.Cmd
	// Pid is the host pid of the container's process.
	Pid int
	// Console is the pty master when the container has a terminal.
	Console *os.File
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
	childSock := os.NewFile(uintptr(fds[1]), "sync-child")
	defer childSock.Close()
	specR, specW, err := os.Pipe()
	if err != nil {
		l.parentSock.Close()
		return nil, err
	}
	defer specR.Close()
	l.specW = specW
	l.cmd = initCommand(opts, childSock, specR)
	if err := l.cmd.Start(); err != nil {
		l.parentSock.Close()
		specW.Close()
		return nil, fmt.Errorf("start container init: %w", err)
	}
	if !opts.Rootless {
		l.maps <- nil
		return l, nil
	}
	pid := l.cmd.Process.Pid
	go func() { l.maps <- userns.WriteMaps(ctx, pid, opts.Mapping) }()
	return l, nil
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
		l.parentSock.Close()
		l.specW.Close()
	})
}

// Start sends spec to the init once its id maps exist and returns when the
// container's process runs, or with a *StartError when it cannot run.
func (l *Launch) Start(ctx context.Context, spec *Spec) (_ *Process, retErr error) {
	p := &Process{cmd: l.cmd, Pid: l.cmd.Process.Pid}
	defer func() {
		if retErr != nil {
			l.Abort()
			if p.Console != nil {
				p.Console.Close()
			}
		}
	}()
	defer l.parentSock.Close()
	defer l.specW.Close()
	err := <-l.maps
	l.mapsDone = true
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(l.specW).Encode(spec); err != nil {
		return nil, fmt.Errorf("send spec to container init: %w", err)
	}
	l.specW.Close()
	if err := p.readSync(ctx, l.parentSock, l.logger); err != nil {
		return nil, err
	}
	return p, nil
}

func initCommand(opts LaunchOptions, childSock, specR *os.File) *exec.Cmd {
	cmd := exec.Command(reexec.SelfExe)
	cmd.Args = []string{initName}
	cmd.Env = []string{}
	cmd.Stdin = opts.Stdin
	cmd.Stdout = opts.Stdout
	cmd.Stderr = opts.Stderr
	cmd.ExtraFiles = []*os.File{childSock, specR}
	// The cgroup namespace comes later: the init enters one after the
	// parent put it into the container's cgroup (enterCgroupNamespace).
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if opts.NewNetNS {
		flags |= unix.CLONE_NEWNET
	}
	cmd.SysProcAttr = userns.SysProcAttr(flags)
	return cmd
}

// readSync handles the init's messages until the sync socket reaches
// end-of-file, which happens when the init executes the container's
// process.
func (p *Process) readSync(ctx context.Context, sock *os.File, log *slog.Logger) error {
	stop := context.AfterFunc(ctx, func() { _ = p.cmd.Process.Kill() })
	defer stop()
	buf := make([]byte, maxSyncMessage)
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
		var msg syncMessage
		if err := json.Unmarshal(buf[:n], &msg); err != nil {
			return fmt.Errorf("decode message from container init: %w", err)
		}
		if err := p.handleMessage(msg, oob[:oobn], log); err != nil {
			return err
		}
	}
}

func (p *Process) handleMessage(msg syncMessage, oob []byte, log *slog.Logger) error {
	switch msg.Type {
	case msgError:
		code := msg.Code
		if code == 0 {
			code = ExitGockerError
		}
		return &StartError{Code: code, Err: errors.New(msg.Message)}
	case msgLog:
		var level slog.Level
		_ = level.UnmarshalText([]byte(msg.Level))
		log.Log(context.Background(), level, msg.Message, "role", "init")
	case msgPTY:
		fd, err := receiveFD(oob)
		if err != nil {
			return err
		}
		p.Console = os.NewFile(uintptr(fd), "pty-master")
	}
	return nil
}

func receiveFD(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("receive pty from container init: no file descriptor in the message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("receive pty from container init: %v", err)
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
	return exitStatus(p.cmd.ProcessState.Sys().(syscall.WaitStatus)), nil
}

func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return signalExitOffset + int(ws.Signal())
	}
	return ws.ExitStatus()
}
