package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
)

// validateLifecycle checks the options that decide how a container is
// monitored: -d, --restart, the log driver and the stop signal.
func (o *runOptions) validateLifecycle() error {
	policy, err := container.ParseRestartPolicy(o.restart)
	if err != nil {
		return err
	}
	if policy.Enabled() && o.remove {
		return fmt.Errorf("conflicting options: --restart %s and --rm: a container that is removed when it exits cannot be restarted", o.restart)
	}
	o.create.RestartPolicy = policy
	if o.create.LogConfig, err = container.NewLogConfig(o.logDriver, o.logOpts); err != nil {
		return err
	}
	if o.create.StopSignal != "" {
		if _, err := container.ParseSignal(o.create.StopSignal); err != nil {
			return fmt.Errorf("invalid --stop-signal: %w", err)
		}
	}
	if t := o.create.StopTimeout; t != nil && *t < 0 {
		return fmt.Errorf("invalid --stop-timeout %d: use a number of seconds, 0 or more", *t)
	}
	return nil
}

// runDetached creates the container and hands it to a detached monitor.
// With -d it prints the container's id once the container runs; without
// it (a restart policy needs the monitor), it stays attached to the
// container's first run and exits with its status.
func runDetached(c *cli.Context, st *stores, opts *runOptions) error {
	ctr, err := createContainer(c.Context, st, opts.create)
	if err != nil {
		return err
	}
	h, err := startMonitor(c, st, ctr, !opts.detach)
	if err != nil {
		// The monitor removed an --rm container whose start failed; a
		// failure before the monitor ran leaves it to remove here.
		if opts.remove {
			if cur, getErr := st.containers.Get(ctr.ID); getErr == nil {
				// The monitor may remove it between Get and Remove.
				if rmErr := st.containers.RemoveAfterMonitor(c.Context, cur); !errors.Is(rmErr, fs.ErrNotExist) {
					err = errors.Join(err, rmErr)
				}
			}
			return err
		}
		return errors.Join(err, removeUnstarted(c.Context, st, ctr.ID, err))
	}
	if opts.detach {
		h.Close()
		fmt.Fprintln(c.App.Writer, ctr.ID)
		return nil
	}
	return attachMonitor(c, h, ctr, opts.create.OpenStdin)
}

// attachMonitor relays the container's stdio through its monitor until
// the container's first run ends, and returns its exit status.
func attachMonitor(c *cli.Context, h *container.MonitorHandle, ctr *container.Container, stdin bool) error {
	opts := container.AttachOptions{Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Tty: ctr.Config.Tty}
	if stdin {
		opts.Stdin = os.Stdin
	}
	code, err := h.Attach(c.Context, opts)
	if err != nil {
		return err
	}
	return statusError{code: code}
}

// stopTimeout returns how long gocker stop waits for ctr: -t when given,
// else the container's --stop-timeout, else Docker's 10 seconds.
func stopTimeout(c *cli.Context, ctr *container.Container) time.Duration {
	switch {
	case c.IsSet("time"):
		return time.Duration(c.Int("time")) * time.Second
	case ctr.Config.StopTimeout != nil:
		return time.Duration(*ctr.Config.StopTimeout) * time.Second
	}
	return container.DefaultStopTimeout
}
