package container

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gocker/gocker/internal/memtrim"

	"golang.org/x/sys/unix"
)

// MonitorName is the name under which cmd/gocker registers the detached
// monitor's entry point; [StartMonitor] starts it.
const MonitorName = "gocker-monitor"

// monitorClientFD is the monitor's end of its socket pair.
const monitorClientFD = 3

// MonitorConn is the detached monitor's connection to the gocker command
// that started it.
type MonitorConn struct{ *packetConn }

// OpenMonitorConn returns the connection the monitor received as fd 3.
func OpenMonitorConn() (*MonitorConn, error) {
	unix.CloseOnExec(monitorClientFD)
	conn, err := newPacketConn(monitorClientFD, "monitor-client")
	if err != nil {
		return nil, err
	}
	return &MonitorConn{conn}, nil
}

// Fail reports err to the gocker command as the outcome of the start, for
// a monitor that fails before [Store.Monitor] runs.
func (m *MonitorConn) Fail(err error) {
	_ = m.sendJSON(packetReady, newReady(0, err))
	_ = m.close()
}

// MonitorOptions configures [Store.Monitor].
type MonitorOptions struct {
	RunOptions
	// Attach relays the container's stdio over the connection for its
	// first run (start -a).
	Attach bool
}

// Monitor makes the calling process the detached monitor of container c
// until it returns. It holds the monitor lock, starts the container and
// reports the outcome of the first start to the gocker command on conn.
// It writes the container's output to its log, forwards the signals it
// receives, records each exit and restarts the container when its restart
// policy requires. At the end it removes a container run with --rm.
func (s *Store) Monitor(ctx context.Context, c *Container, conn *MonitorConn, opts MonitorOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	lock, err := s.lockStopped(ctx, c, monitorExitWait)
	if err != nil {
		err = fmt.Errorf("start container %s: %w", c.Name, ErrRunning)
		conn.Fail(err)
		return err
	}
	defer func() { lock.Unlock() }()
	s.clearStopRequest(c)
	s.TakeRestartRequest(c)
	c.State.RestartCount = 0
	m := &monitor{store: s, c: c, conn: conn, opts: opts, log: opts.Logger.With("container", c.ID)}
	if m.logw, err = s.openLog(c); err != nil {
		conn.Fail(err)
		return err
	}
	m.logw.onError = func(err error) {
		m.log.Error("write the container's log; later failures are not logged", "error", err)
	}
	defer m.logw.Close()
	m.signals = make(chan os.Signal, 16)
	signal.Notify(m.signals, forwardedSignals...)
	defer signal.Stop(m.signals)

	err = m.loop(ctx)
	s.clearStopRequest(c)
	if restart := s.TakeRestartRequest(c); c.HostConfig.AutoRemove && !restart {
		m.logw.Close()
		if c.State.Status == StatusExited {
			s.keepExitCode(c)
		}
		err = errors.Join(err, s.removeLocked(context.WithoutCancel(ctx), c, lock))
		lock = nil
	}
	// An attached command returns once inspect shows the exit, and an
	// --rm container is gone, as after docker start -a.
	m.reportExit()
	return err
}

// openLog opens the container's log writer; with the none driver, output
// is read and dropped.
func (s *Store) openLog(c *Container) (*logWriter, error) {
	if c.HostConfig.LogConfig.Type == LogDriverNone {
		return openLogWriter(os.DevNull, 0, 1)
	}
	maxSize, maxFiles, err := c.HostConfig.LogConfig.Limits()
	if err != nil {
		return nil, err
	}
	return openLogWriter(filepath.Join(s.Dir(c.ID), logFileName), maxSize, maxFiles)
}

// monitor is the state of one detached monitor.
type monitor struct {
	store   *Store
	c       *Container
	conn    *MonitorConn
	opts    MonitorOptions
	log     *slog.Logger
	logw    *logWriter
	signals chan os.Signal
	// exitCode is the status of the last run, which an attached gocker
	// command receives once the exit is recorded (reportExit).
	exitCode int
	// attachedExit is set while an attached command waits for exitCode.
	attachedExit bool
}

// reportExit sends the last exit status to an attached gocker command,
// once, and closes the connection.
func (m *monitor) reportExit() {
	if !m.attachedExit {
		return
	}
	m.attachedExit = false
	_ = m.conn.sendJSON(packetExit, monitorExit{ExitCode: m.exitCode})
	_ = m.conn.close()
}

// loop runs the container, and runs it again for as long as its restart
// policy requires.
func (m *monitor) loop(ctx context.Context) error {
	var backoff restartBackoff
	policy := m.c.HostConfig.RestartPolicy
	for first := true; ; first = false {
		started := time.Now()
		code, err := m.runOnce(ctx, first)
		if err != nil {
			if first {
				m.conn.Fail(err)
			} else {
				m.log.Error("restart failed; the restart policy ends", "error", err)
			}
			return err
		}
		m.exitCode = code
		restarts := m.c.State.RestartCount
		if !policy.ShouldRestart(code, restarts, m.store.stopRequested(m.c)) {
			m.log.Info("container exited", "exit_code", code)
			return m.store.recordExit(m.c, StatusExited, code)
		}
		delay := backoff.next(time.Since(started))
		m.log.Info("container exited; restarting", "exit_code", code, "restart_count", restarts+1, "delay", delay)
		if err := m.store.recordExit(m.c, StatusRestarting, code); err != nil {
			return err
		}
		// The attached command ends with the first run.
		m.reportExit()
		if m.waitRestart(ctx, delay) {
			m.log.Info("stop requested while restarting")
			return m.store.recordExit(m.c, StatusExited, code)
		}
		m.c.State.RestartCount++
	}
}

// waitRestart waits out the restart delay and reports whether a stop
// (gocker stop or rm -f, which signal the monitor) ended it.
func (m *monitor) waitRestart(ctx context.Context, delay time.Duration) bool {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return m.store.stopRequested(m.c)
		case <-m.signals:
			if m.store.stopRequested(m.c) {
				return true
			}
		case <-ctx.Done():
			return true
		}
	}
}

// runOnce starts the container and returns its exit status once it
// exited and its output is logged.
func (m *monitor) runOnce(ctx context.Context, first bool) (int, error) {
	cio, err := newContainerIO(m.c)
	if err != nil {
		return -1, err
	}
	defer cio.close()

	p, cleanups, err := m.start(ctx, cio)
	defer func() {
		if err := runCleanups(context.WithoutCancel(ctx), cleanups); err != nil {
			m.log.Warn("clean up container resources", "error", err)
		}
	}()
	if err != nil {
		return -1, err
	}
	m.log.Info("container started", "container_pid", p.Pid, "restart_count", m.c.State.RestartCount)
	attached := first && m.opts.Attach
	if first {
		_ = m.conn.sendJSON(packetReady, newReady(p.Pid, nil))
		if !attached {
			_ = m.conn.close()
		}
	}
	m.trimMemory(ctx)
	// Once more when the run has settled, for what its first seconds
	// touched.
	settled := time.AfterFunc(trimAgainAfter, memtrim.Trim)
	defer settled.Stop()
	// And whenever forwarding or logging has faulted the binary back in.
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	go memtrim.Watch(trimWatchInterval, stopWatch)

	relay := m.relayOutput(p, attached)
	if attached {
		go m.relayInput(cio, p)
	}
	stop := forwardSignals(m.signals, p)
	code, err := p.Wait()
	stop()
	relay.wait(outputDrainTimeout)
	p.closeOutput()
	m.attachedExit = attached && err == nil
	return code, err
}

// start launches the init with cio's stdin and starts the container,
// recording a failure to start.
func (m *monitor) start(ctx context.Context, cio *containerIO) (*Process, []func(context.Context) error, error) {
	launchOpts, err := NewLaunchOptions(m.c.HostConfig.NetworkMode, m.c.Config.OpenStdin, m.c.Config.Tty, cio.child, m.opts.Logger)
	if err != nil {
		m.store.recordStartFailure(m.c, err)
		return nil, nil, err
	}
	launchOpts.Init = m.c.HostConfig.Init
	seccomp := m.store.SeccompSettings(m.c.HostConfig)
	launchOpts.Seccomp = &seccomp
	launch, err := LaunchInit(ctx, launchOpts)
	cio.closeChild()
	if err != nil {
		m.store.recordStartFailure(m.c, err)
		return nil, nil, err
	}
	return m.store.startContainer(ctx, m.c, launch, m.opts.RunOptions)
}

// trimMemory trims the monitor's memory and logs the Go runtime's figures
// at debug level.
func (m *monitor) trimMemory(ctx context.Context) {
	memtrim.Trim()
	if !m.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.log.Debug("memory after start", "heap_inuse", ms.HeapInuse, "heap_idle", ms.HeapIdle,
		"heap_released", ms.HeapReleased, "stack_inuse", ms.StackInuse, "sys", ms.Sys,
		"gc_sys", ms.GCSys, "other_sys", ms.OtherSys, "mspan_inuse", ms.MSpanInuse)
}

// trimAgainAfter is when, after a start, the monitor trims its memory a
// second time; trimWatchInterval how often it checks later.
const (
	trimAgainAfter    = 5 * time.Second
	trimWatchInterval = 30 * time.Second
)

// relayOutput copies the container's output to its log and, when
// attached, to the gocker command.
func (m *monitor) relayOutput(p *Process, attached bool) *outputRelay {
	var sink func(string, []byte)
	if attached {
		sink = func(stream string, data []byte) {
			kind := byte(packetStdout)
			if stream == StreamStderr {
				kind = packetStderr
			}
			_ = m.conn.send(kind, data)
		}
	}
	if p.Console == nil {
		return relayOutput(p, m.logw, sink)
	}
	// A terminal has one stream: its output is the process's stdout.
	r := &outputRelay{sources: []*os.File{p.Console}}
	r.done.Add(1)
	go r.copy(p.Console, StreamStdout, m.logw, sink)
	return r
}

// relayInput passes the gocker command's input and terminal size on to
// the container until the command goes away or the run ends.
func (m *monitor) relayInput(cio *containerIO, p *Process) {
	buf := make([]byte, maxPacket)
	for {
		kind, payload, err := m.conn.receive(buf)
		if err != nil {
			break
		}
		switch kind {
		case packetStdin:
			if p.Console != nil {
				_, _ = p.Console.Write(payload)
			} else if cio.stdin != nil {
				_, _ = cio.stdin.Write(payload)
			}
		case packetStdinClose:
			cio.closeStdin()
		case packetResize:
			var size terminalSize
			if p.Console != nil && decodePacket(payload, &size) == nil {
				ws := &unix.Winsize{Row: size.Rows, Col: size.Cols}
				_ = unix.IoctlSetWinsize(int(p.Console.Fd()), unix.TIOCSWINSZ, ws)
			}
		}
	}
	// With its command gone, the container reads the end of its input,
	// as the command's own input would have ended.
	cio.closeStdin()
}

// containerIO is the monitor's side of a container's stdin without a
// terminal: a pipe with -i. The monitor keeps it open, so that the
// container's input does not end while no gocker command is attached.
// child holds the end the init receives.
type containerIO struct {
	stdin     *os.File
	child     IO
	stdinOnce sync.Once
}

func newContainerIO(c *Container) (*containerIO, error) {
	cio := &containerIO{}
	if c.Config.Tty || !c.Config.OpenStdin {
		return cio, nil
	}
	var err error
	if cio.child.Stdin, cio.stdin, err = os.Pipe(); err != nil {
		return nil, err
	}
	return cio, nil
}

// closeChild closes the init's end once the init holds its own copy.
func (cio *containerIO) closeChild() {
	if cio.child.Stdin != nil {
		cio.child.Stdin.Close()
	}
	cio.child = IO{}
}

func (cio *containerIO) closeStdin() {
	cio.stdinOnce.Do(func() {
		if cio.stdin != nil {
			cio.stdin.Close()
		}
	})
}

func (cio *containerIO) close() {
	cio.closeChild()
	cio.closeStdin()
}
