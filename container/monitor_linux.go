package container

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"time"

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
// container exits and must be valid even when the hook fails.
type Hook func(ctx context.Context, c *Container, pid int) (cleanup func(context.Context) error, err error)

// NewLaunchOptions returns the launch settings of a container with the
// given network mode and stdio flags. Rootless, it reads the caller's id
// mapping, and fails with the fix when there is none.
func NewLaunchOptions(network string, openStdin, tty bool, stdio IO, logger *slog.Logger) (LaunchOptions, error) {
	opts := LaunchOptions{Rootless: userns.Rootless(), NewNetNS: network != NetworkHost, Logger: logger}
	if !tty {
		opts.Stdout, opts.Stderr = stdio.Stdout, stdio.Stderr
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
		if launch, err = LaunchInit(ctx, launchOpts); err != nil {
			return -1, err
		}
	}
	cleanups, err := runHooks(ctx, c, launch.Pid(), opts.Hooks)
	defer func() {
		if err := runCleanups(context.WithoutCancel(ctx), cleanups); err != nil {
			opts.Logger.Warn("clean up container resources", "container", c.ID, "error", err)
		}
	}()
	if err != nil {
		launch.Abort()
		s.recordStartFailure(c, err)
		return -1, err
	}
	p, err := s.start(ctx, c, launch, opts)
	if err != nil {
		s.recordStartFailure(c, err)
		return -1, err
	}
	var tty *terminal
	if p.Console != nil {
		if tty, err = attachTerminal(p.Console, opts.IO.Stdin, opts.IO.Stdout, c.Config.OpenStdin); err != nil {
			_ = p.Signal(unix.SIGKILL)
		}
	}
	stopForwarding := forwardSignals(signals, p)
	code, waitErr := p.Wait()
	stopForwarding()
	if tty != nil {
		tty.close()
	}
	c.State.Status = StatusExited
	c.State.ExitCode = code
	c.State.Pid = 0
	c.State.FinishedAt = time.Now().UTC()
	if err := s.SaveState(c); err != nil {
		return code, errors.Join(waitErr, err)
	}
	return code, waitErr
}

func (s *Store) start(ctx context.Context, c *Container, launch *Launch, opts RunOptions) (_ *Process, retErr error) {
	defer func() {
		if retErr != nil {
			launch.Abort()
		}
	}()
	etc, err := netstack.WriteEtcFiles(s.Dir(c.ID), c.etcOptions())
	if err != nil {
		return nil, err
	}
	var etcMounts []Mount
	for _, f := range etc {
		etcMounts = append(etcMounts, Mount{Source: f.Path, Destination: f.Destination})
	}
	spec, err := s.spec(c, opts.LayersDir, etcMounts)
	if err != nil {
		return nil, err
	}
	p, err := launch.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	c.State = State{Status: StatusRunning, Pid: p.Pid, StartedAt: time.Now().UTC()}
	c.State.PidStartTime, _ = processStartTime(p.Pid)
	if err := s.SaveState(c); err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return nil, err
	}
	return p, nil
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

// recordStartFailure keeps a container that never ran in the created
// state with the error and status, as Docker does.
func (s *Store) recordStartFailure(c *Container, err error) {
	c.State = State{Status: StatusCreated, ExitCode: ExitGockerError, Error: err.Error()}
	var se *StartError
	if errors.As(err, &se) {
		c.State.ExitCode = se.Code
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
