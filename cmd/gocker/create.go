package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container without starting it",
	ArgsUsage: "IMAGE [COMMAND] [ARG...]",
	Description: `Creates a container as gocker run does, pulling a missing image, and prints
its id without starting it. "gocker start" starts it (with -a, attached), with
a detached monitor that keeps its log and restart policy; --rm removes it
when it exits.`,
	Flags:                  createFlags(),
	UseShortOptionHandling: true,
	Action:                 func(c *cli.Context) error { return runFailure(createAction(c)) },
}

// createFlags are run's flags without -d, which means nothing before a
// start.
func createFlags() []cli.Flag {
	var flags []cli.Flag
	for _, f := range runFlags() {
		if f.Names()[0] != "detach" {
			flags = append(flags, f)
		}
	}
	return flags
}

func createAction(c *cli.Context) error {
	opts, st, err := prepareRun(c)
	if err != nil {
		return err
	}
	ctr, err := createContainer(c.Context, st, opts.create)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, ctr.ID)
	return nil
}
