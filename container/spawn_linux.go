package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/gocker/gocker/reexec"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// MonitorHandle is the gocker command's side of a detached monitor that
// started a container.
type MonitorHandle struct {
	// Pid is the host pid of the container's process.
	Pid  int
	conn *packetConn
}

// StartMonitor starts a detached monitor: gocker executed again as
// [MonitorName] with args, in a session of its own, with its stdio on
// /dev/null and its working directory /, so that it outlives the calling
// command and its terminal. It returns once the monitor reports the
// outcome of the container's start. A start that failed returns a
// *StartError with Docker's exit status for it.
func StartMonitor(ctx context.Context, args []string) (*MonitorHandle, error) {
	conn, err := spawnMonitor(args)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.close() })
	defer stop()
	ready, err := receiveReady(conn)
	if err == nil {
		err = ready.err()
	}
	if err != nil {
		conn.close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("start container: %w", ctx.Err())
		}
		return nil, err
	}
	return &MonitorHandle{Pid: ready.Pid, conn: conn}, nil
}

// spawnMonitor starts the monitor process and returns the calling side of
// its socket pair.
func spawnMonitor(args []string) (*packetConn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	child := os.NewFile(uintptr(fds[1]), "monitor-client")
	defer child.Close()
	conn, err := newPacketConn(fds[0], "monitor")
	if err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	cmd := exec.Command(reexec.SelfExe)
	cmd.Args = append([]string{MonitorName}, args...)
	cmd.ExtraFiles = []*os.File{child}
	cmd.Dir = "/"
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		conn.close()
		return nil, fmt.Errorf("start the container's monitor: %w", err)
	}
	// The monitor outlives this command as a rule; should it exit first,
	// this reaps it.
	go func() { _ = cmd.Wait() }()
	return conn, nil
}

// receiveReady reads the monitor's report of the start.
func receiveReady(conn *packetConn) (monitorReady, error) {
	var ready monitorReady
	kind, payload, err := conn.receive(make([]byte, maxPacket))
	if err != nil || kind != packetReady {
		return ready, errors.New("the container's monitor exited without reporting the start: see monitor.log in the container's directory")
	}
	return ready, decodePacket(payload, &ready)
}

// Close ends the connection; the monitor and the container go on.
func (h *MonitorHandle) Close() { _ = h.conn.close() }

// AttachOptions are the streams of the gocker command that [MonitorHandle.Attach]
// connects to the container.
type AttachOptions struct {
	// Stdin is passed on to the container; nil passes nothing.
	Stdin          *os.File
	Stdout, Stderr io.Writer
	// Tty is set for a container with a terminal. Its output is one
	// stream, and Stdin, when it is a terminal, is put in raw mode and its
	// size passed on. Without a terminal, the signals the command receives
	// are forwarded to the container's process.
	Tty bool
}

// Attach relays the container's output to opts and opts.Stdin to the
// container until the container's first run ends, and returns its exit
// status. The monitor was started with attach in its arguments.
func (h *MonitorHandle) Attach(ctx context.Context, opts AttachOptions) (int, error) {
	defer h.Close()
	if opts.Tty && opts.Stdin != nil && term.IsTerminal(int(opts.Stdin.Fd())) {
		fd := int(opts.Stdin.Fd())
		state, err := term.MakeRaw(fd)
		if err != nil {
			return -1, err
		}
		defer func() { _ = term.Restore(fd, state) }()
		stopResize := h.followTerminalSize(fd)
		defer stopResize()
	}
	if !opts.Tty {
		signals := make(chan os.Signal, 16)
		signal.Notify(signals, forwardedSignals...)
		defer signal.Stop(signals)
		go func() {
			for sig := range signals {
				_ = unix.Kill(h.Pid, sig.(unix.Signal))
			}
		}()
	}
	if opts.Stdin != nil {
		go h.sendInput(opts.Stdin)
	}
	stop := context.AfterFunc(ctx, func() { h.conn.close() })
	defer stop()
	buf := make([]byte, maxPacket)
	for {
		kind, payload, err := h.conn.receive(buf)
		if err != nil {
			if ctx.Err() != nil {
				return -1, ctx.Err()
			}
			return -1, errors.New("the container's monitor ended the connection before the container exited")
		}
		switch kind {
		case packetStdout:
			_, _ = opts.Stdout.Write(payload)
		case packetStderr:
			_, _ = opts.Stderr.Write(payload)
		case packetExit:
			var exit monitorExit
			if err := decodePacket(payload, &exit); err != nil {
				return -1, err
			}
			return exit.ExitCode, nil
		}
	}
}

func (h *MonitorHandle) sendInput(in *os.File) {
	buf := make([]byte, maxPacket-1)
	for {
		n, err := in.Read(buf)
		if n > 0 && h.conn.send(packetStdin, buf[:n]) != nil {
			return
		}
		if err != nil {
			_ = h.conn.send(packetStdinClose, nil)
			return
		}
	}
}

// followTerminalSize sends the size of the terminal fd now and after each
// SIGWINCH.
func (h *MonitorHandle) followTerminalSize(fd int) (stop func()) {
	return onWindowChange(fd, func(ws *unix.Winsize) {
		_ = h.conn.sendJSON(packetResize, terminalSize{Rows: ws.Row, Cols: ws.Col})
	})
}
