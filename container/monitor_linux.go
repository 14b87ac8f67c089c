package container

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/netstack"
	"github.com/gocker/gocker/userns"
	"golang.org/x/sys/unix"
)

// IO is the host side of a container's standard streams.
type IO struct {
	Stdin, Stdout, Stderr *os.File
}

// RunOptions configures [Store.Run].
type RunOptions struct {
	IO IO
	// LayersDir is the layer store's directory.
	LayersDir string
	Logger    *slog.Logger
	// Launch is an init started with [LaunchInit] for this container
	// before its record existed; nil starts one.
	Launch *Launch
	// Hooks set up host-side resources (network, cgroup) for the init's
	// namespaces before it builds the container.
	Hooks []Hook
}

// Hook prepares a resource for container c whose init runs as host pid
// pid and waits for its spec. It returns the undo, which runs after the
// container exits and must be valid even when the hook fails. A hook that
// places the container in cgroups records their directories in
// c.State.Cgroups, where gocker exec finds them. The detached monitor runs
// the hooks again at every restart.
type Hook func(ctx context.Context, c *Container, pid int) (cleanup func(context.Context) error, err error)

// NewLaunchOptions returns the launch settings of a container with the
// given network mode and stdio flags. Without a terminal, the container's
// stdin is stdio.Stdin (with openStdin) and its output goes to pipes, which
// the monitor copies to the log and to stdio. Rootless, it reads the
// caller's id mapping, and fails with the fix when there is none.
func NewLaunchOptions(network string, openStdin, tty bool, stdio IO, logger *slog.Logger) (LaunchOptions, error) {
	opts := LaunchOptions{Rootless: userns.Rootless(), NewNetNS: network != NetworkHost, Logger: logger}
	if !tty {
		opts.CaptureOutput = true
		if openStdin {
			opts.Stdin = stdio.Stdin
		}
	}
	if opts.Rootless {
		var err error
		if opts.Mapping, err = userns.LoadMapping(); err != nil {
			return LaunchOptions{}, err
		}
	}
	return opts, nil
}

// Run starts container c and monitors it until it exits: it holds the
// container's lock, relays its terminal, forwards the signals gocker
// receives, and records the exit status, which it returns. A container
// that cannot start returns a *StartError with Docker's status for it.
func (s *Store) Run(ctx context.Context, c *Container, opts RunOptions) (int, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	lock, err := s.TryLock(c)
	if err != nil {
		return -1, fmt.Errorf("start container %s: %w", c.Name, ErrRunning)
	}
	defer lock.Unlock()

	// Catch signals before the container exists, so that one arriving
	// during the start is forwarded rather than killing gocker.
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, forwardedSignals...)
	defer signal.Stop(signals)

	launch := opts.Launch
	if launch == nil {
		launchOpts, err := NewLaunchOptions(c.HostConfig.NetworkMode, c.Config.OpenStdin, c.Config.Tty, opts.IO, opts.Logger)
		if err != nil {
			return -1, err
		}
		launchOpts.Init = c.HostConfig.Init
		seccomp := s.SeccompSettings(c.HostConfig)
		launchOpts.Seccomp = &seccomp
		if launch, err = LaunchInit(ctx, launchOpts); err != nil {
			return -1, err
		}
	}
	p, cleanups, err := s.startContainer(ctx, c, launch, opts)
	defer func() {
		if err := runCleanups(context.WithoutCancel(ctx), cleanups); err != nil {
			opts.Logger.Warn("clean up container resources", "container", c.ID, "error", err)
		}
	}()
	if err != nil {
		return -1, err
	}
	logw, err := s.openLog(c)
	if err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return -1, err
	}
	defer logw.Close()
	var tty *terminal
	var relay *outputRelay
	if p.Console != nil {
		out := &teeWriter{w: opts.IO.Stdout, log: logw.splitter(StreamStdout)}
		defer out.log.Flush()
		if tty, err = attachTerminal(p.Console, opts.IO.Stdin, out, c.Config.OpenStdin); err != nil {
			_ = p.Signal(unix.SIGKILL)
		}
	} else {
		relay = relayOutput(p, logw, func(stream string, data []byte) {
			w := opts.IO.Stdout
			if stream == StreamStderr {
				w = opts.IO.Stderr
			}
			_, _ = w.Write(data)
		})
	}
	stopForwarding := forwardSignals(signals, p)
	code, waitErr := p.Wait()
	stopForwarding()
	opts.Logger.Debug("container exited", "container", c.ID, "status", code)
	if tty != nil {
		tty.close()
	}
	if relay != nil {
		relay.wait(outputDrainTimeout)
	}
	p.closeOutput()
	s.clearStopRequest(c)
	if err := s.recordExit(c, StatusExited, code); err != nil {
		return code, errors.Join(waitErr, err)
	}
	return code, waitErr
}

// startContainer runs the hooks for the init of launch and starts the
// container's process, recording c as running. On failure it records the
// error and aborts the init. The cleanups of the hooks that ran are
// returned in both cases.
func (s *Store) startContainer(ctx context.Context, c *Container, launch *Launch, opts RunOptions) (*Process, []func(context.Context) error, error) {
	// The hooks of this start record its cgroups afresh.
	c.State.Cgroups = nil
	cleanups, err := runHooks(ctx, c, launch.Pid(), opts.Hooks)
	if err != nil {
		// A hook that needs the init's namespaces fails when the init
		// died, and the init's death is the error to report.
		if early := launch.exitedEarly(); early != nil {
			err = errors.Join(early, err)
		}
		launch.Abort()
		s.recordStartFailure(c, err)
		return nil, cleanups, err
	}
	p, err := s.start(ctx, c, launch, opts)
	if err != nil {
		s.recordStartFailure(c, err)
		return nil, cleanups, err
	}
	return p, cleanups, nil
}

func (s *Store) start(ctx context.Context, c *Container, launch *Launch, opts RunOptions) (_ *Process, retErr error) {
	defer func() {
		if retErr != nil {
			launch.Abort()
		}
	}()
	etc, err := netstack.EtcFiles(c.etcOptions())
	if err != nil {
		return nil, err
	}
	etcFiles := make([]EtcFile, 0, len(etc))
	for _, f := range etc {
		etcFiles = append(etcFiles, EtcFile{Destination: f.Destination, Data: f.Data})
	}
	spec, err := s.spec(c, opts.LayersDir, etcFiles)
	if err != nil {
		return nil, err
	}
	pending := launch.seccomp
	if pending == nil {
		pending = compileSeccompAsync(s.SeccompSettings(c.HostConfig))
	}
	filter, duration, err := pending.wait()
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.Name, err)
	}
	spec.Seccomp = (*initproc.SeccompFilter)(filter)
	if filter != nil {
		opts.Logger.Debug("compiled the seccomp filter", "container", c.ID, "instructions", filter.Len(), "duration", duration)
	}
	if c.Config.Tty && opts.IO.Stdin != nil {
		if ws, err := unix.IoctlGetWinsize(int(opts.IO.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			spec.ConsoleRows, spec.ConsoleCols = ws.Row, ws.Col
		}
	}
	p, err := launch.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	if p.BindListener != nil {
		serve := c.ServeBindListener
		if serve == nil {
			// With the listener closed, the kernel fails the
			// container's bind calls with ENOSYS instead of holding them.
			serve = func(f *os.File) error { return f.Close() }
		}
		err := serve(p.BindListener)
		p.BindListener = nil
		if err != nil {
			_ = p.Signal(unix.SIGKILL)
			_, _ = p.Wait()
			return nil, fmt.Errorf("serve the bind notifications of container %s: %w", c.Name, err)
		}
	}

	// Fields that hooks set (Cgroups) and the restart count stay.
	st := &c.State
	st.Status = StatusRunning
	st.Pid = p.Pid
	st.PidStartTime, _ = processStartTime(p.Pid)
	st.MonitorPid = os.Getpid()
	st.MonitorStartTime, _ = processStartTime(st.MonitorPid)
	st.StartedAt = time.Now().UTC()
	st.ExitCode = 0
	st.Error = ""
	if err := s.SaveState(c); err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return nil, err
	}
	return p, nil
}

// recordExit records that the container's process exited with code and
// that the container is now in status (exited, or restarting).
func (s *Store) recordExit(c *Container, status string, code int) error {
	c.State.Status = status
	c.State.ExitCode = code
	c.State.Pid = 0
	c.State.PidStartTime = 0
	c.State.FinishedAt = time.Now().UTC()
	return s.SaveState(c)
}

// runHooks runs hooks in order and returns the cleanups of those that ran,
// including the one that failed.
func runHooks(ctx context.Context, c *Container, pid int, hooks []Hook) ([]func(context.Context) error, error) {
	var cleanups []func(context.Context) error
	for _, hook := range hooks {
		cleanup, err := hook(ctx, c, pid)
		if cleanup != nil {
			cleanups = append(cleanups, cleanup)
		}
		if err != nil {
			return cleanups, err
		}
	}
	return cleanups, nil
}

// runCleanups undoes hooks in reverse order and joins their errors.
func runCleanups(ctx context.Context, cleanups []func(context.Context) error) error {
	var errs []error
	for i := len(cleanups) - 1; i >= 0; i-- {
		errs = append(errs, cleanups[i](ctx))
	}
	return errors.Join(errs...)
}

// recordStartFailure records why the container could not start, with
// Docker's exit status for it. A container that never ran stays created,
// as in Docker; one that ran before is exited.
func (s *Store) recordStartFailure(c *Container, err error) {
	st := &c.State
	st.Status = StatusCreated
	if !st.StartedAt.IsZero() {
		st.Status = StatusExited
		st.FinishedAt = time.Now().UTC()
	}
	st.ExitCode = ExitGockerError
	st.Error = err.Error()
	st.Pid, st.PidStartTime = 0, 0
	var se *StartError
	if errors.As(err, &se) {
		st.ExitCode = se.Code
	}
	_ = s.SaveState(c)
}

// forwardedSignals are the signals gocker passes on to the container's
// process: those a user or a supervisor sends to stop, reload or poke a
// service. Catching every signal instead costs milliseconds at each start
// (a sigaction per signal) and would swallow the terminal's job control
// signals.
var forwardedSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM, unix.SIGPWR,
}

// forwardSignals sends the signals gocker receives to the container's
// process.
func forwardSignals(signals <-chan os.Signal, p *Process) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case sig := <-signals:
				_ = p.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
