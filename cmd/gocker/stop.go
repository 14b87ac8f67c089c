package main

import (
	"fmt"
	"strconv"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
)

func stopTimeFlag() cli.Flag {
	return &cli.IntFlag{Name: "time", Aliases: []string{"t", "timeout"}, Usage: "seconds to wait for the container to exit before SIGKILL", DefaultText: "its --stop-timeout, else 10"}
}

var stopCommand = &cli.Command{
	Name:      "stop",
	Usage:     "stop running containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Description: `Sends each container's stop signal (its --stop-signal, else the image's
STOPSIGNAL, else SIGTERM) to its process and, when the process has not
exited after the timeout, SIGKILL. A process that is PID 1 of its PID
namespace ignores signals it has no handler for, so a command such as
"sleep" exits only at the SIGKILL. A stop ends the restart policy until the
next start.`,
	Flags:  []cli.Flag{stopTimeFlag()},
	Action: stopAction,
}

func stopAction(c *cli.Context) error {
	if c.Int("time") < 0 {
		return &exitError{code: 125, err: fmt.Errorf("invalid --time %d: use a number of seconds, 0 or more", c.Int("time"))}
	}
	return eachContainer(c, "CONTAINER [CONTAINER...]", func(st *stores, ctr *container.Container) (string, error) {
		return "", st.containers.Stop(c.Context, ctr, stopTimeout(c, ctr))
	})
}

var restartCommand = &cli.Command{
	Name:        "restart",
	Usage:       "stop containers and start them again",
	ArgsUsage:   "CONTAINER [CONTAINER...]",
	Description: `Stops each container as gocker stop does, then starts it as gocker start.`,
	Flags:       []cli.Flag{stopTimeFlag()},
	Action:      restartAction,
}

func restartAction(c *cli.Context) error {
	if c.Int("time") < 0 {
		return &exitError{code: 125, err: fmt.Errorf("invalid --time %d: use a number of seconds, 0 or more", c.Int("time"))}
	}
	return eachContainer(c, "CONTAINER [CONTAINER...]", func(st *stores, ctr *container.Container) (string, error) {
		if err := st.containers.StopForRestart(c.Context, ctr, stopTimeout(c, ctr)); err != nil {
			return "", err
		}
		ctr, err := st.containers.Get(ctr.ID)
		if err != nil {
			return "", err
		}
		h, err := startMonitor(c, st, ctr, false)
		if err != nil {
			return "", err
		}
		h.Close()
		return "", nil
	})
}

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "send a signal to the process of running containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Description: `Sends SIGKILL, or the signal of --signal, to each container's process.
SIGKILL, SIGTERM, SIGINT, SIGQUIT, SIGABRT and the container's stop signal
end its restart policy until the next start; other signals do not.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "signal to send: a name (KILL, SIGHUP) or a number"},
	},
	Action: killAction,
}

func killAction(c *cli.Context) error {
	sig, err := container.ParseSignal(c.String("signal"))
	if err != nil {
		return &exitError{code: 125, err: fmt.Errorf("invalid --signal: %w", err)}
	}
	return eachContainer(c, "CONTAINER [CONTAINER...]", func(st *stores, ctr *container.Container) (string, error) {
		return "", st.containers.Kill(c.Context, ctr, sig)
	})
}

var waitCommand = &cli.Command{
	Name:      "wait",
	Usage:     "wait for containers to exit and print their exit statuses",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Action:    waitAction,
}

func waitAction(c *cli.Context) error {
	return eachContainer(c, "CONTAINER [CONTAINER...]", func(st *stores, ctr *container.Container) (string, error) {
		code, err := st.containers.Wait(c.Context, ctr)
		return strconv.Itoa(code), err
	})
}
