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
	if c.NArg() == 0 {
		return &exitError{code: 125, err: errors.New("\"gocker start\" requires at least 1 argument: CONTAINER [CONTAINER...]")}
	}
	interactive := c.Bool("interactive")
	attach := c.Bool("attach") || interactive
	if attach && c.NArg() > 1 {
		return &exitError{code: 125, err: errors.New("\"gocker start -a\" attaches to one container only")}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	if attach {
		return startAttached(c, st, c.Args().First(), interactive)
	}
	var errs []error
	for _, ref := range c.Args().Slice() {
		if err := startOne(c, st, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.App.Writer, ref)
	}
	return joinFailures(errs)
}

// startOne starts a container unless it runs already, as docker start
// does.
func startOne(c *cli.Context, st *stores, ref string) error {
	ctr, err := st.containers.Get(ref)
	if err != nil {
		return err
	}
	if ctr.State.Status == container.StatusRunning || ctr.State.Status == container.StatusRestarting {
		return nil
	}
	h, err := startMonitor(c, st, ctr, false)
	if err != nil {
		return err
	}
	h.Close()
	return nil
}

func startAttached(c *cli.Context, st *stores, ref string, interactive bool) error {
	ctr, err := st.containers.Get(ref)
	if err != nil {
		return err
	}
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

// joinFailures turns the failures of a command that works on several
// containers into its error: exit status 1, as Docker's.
func joinFailures(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return &exitError{code: 1, err: errors.Join(errs...)}
}
