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
	signal.Notify(signals)
	defer signal.Stop(signals)

	p, err := s.start(ctx, c, opts)
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

func (s *Store) start(ctx context.Context, c *Container, opts RunOptions) (*Process, error) {
	etc, err := netstack.WriteEtcFiles(s.Dir(c.ID), netstack.EtcOptions{
		Hostname:       c.Config.Hostname,
		HostNetwork:    c.HostConfig.NetworkMode == NetworkHost,
		HostResolvConf: "/etc/resolv.conf",
	})
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
	startOpts := StartOptions{Logger: opts.Logger}
	if !c.Config.Tty {
		startOpts.Stdout, startOpts.Stderr = opts.IO.Stdout, opts.IO.Stderr
		if c.Config.OpenStdin {
			startOpts.Stdin = opts.IO.Stdin
		}
	}
	if c.Rootless {
		if startOpts.Mapping, err = userns.LoadMapping(); err != nil {
			return nil, err
		}
	}
	p, err := Start(ctx, spec, startOpts)
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

// forwardSignals sends every signal gocker receives to the container's
// process, except those that concern gocker's own terminal and children.
func forwardSignals(signals <-chan os.Signal, p *Process) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case sig := <-signals:
				if forwardable(sig) {
					_ = p.Signal(sig)
				}
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

func forwardable(sig os.Signal) bool {
	switch sig {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGPIPE:
		// SIGURG is the Go runtime's preemption signal; SIGWINCH is
		// handled by the terminal relay.
		return false
	}
	return true
}
