package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start stopped containers again, on the same root filesystem",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Description: `Starts each container with a detached monitor and prints its name. With
-a (one container), gocker stays attached to the container's output and
exits with its exit status; -i also passes standard input on.`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach to the container's output and exit with its status"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach standard input too (implies -a)"},
	},
	UseShortOptionHandling: true,
	Action:                 startAction,
}

func startAction(c *cli.Context) error {
	interactive := c.Bool("interactive")
	if c.Bool("attach") || interactive {
		if c.NArg() != 1 {
			return &exitError{code: 125, err: errors.New("\"gocker start -a\" requires exactly 1 argument: CONTAINER")}
		}
		st, ctr, err := firstContainer(c)
		if err != nil {
			return err
		}
		return startAttached(c, st, ctr, interactive)
	}
	return eachContainer(c, "CONTAINER [CONTAINER...]", func(st *stores, ctr *container.Container) (string, error) {
		// A running container is left as it is, as docker start does.
		if ctr.State.Status == container.StatusRunning || ctr.State.Status == container.StatusRestarting {
			return "", nil
		}
		h, err := startMonitor(c, st, ctr, false)
		if err != nil {
			return "", err
		}
		h.Close()
		return "", nil
	})
}

func startAttached(c *cli.Context, st *stores, ctr *container.Container, interactive bool) error {
	if ctr.State.Status == container.StatusRunning || ctr.State.Status == container.StatusRestarting {
		return &exitError{code: 125, err: fmt.Errorf("container %s is running already: gocker start -a attaches only to the run it starts", ctr.Name)}
	}
	if ctr.Config.Tty && interactive && !term.IsTerminal(int(os.Stdin.Fd())) {
		return container.ErrNotATerminal
	}
	h, err := startMonitor(c, st, ctr, true)
	if err != nil {
		return err
	}
	return attachMonitor(c, h, ctr, interactive)
}
