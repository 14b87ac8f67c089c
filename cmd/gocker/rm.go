package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

var rmCommand = &cli.Command{
	Name:      "rm",
	Usage:     "remove containers (running ones too with -f)",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill a running container (SIGKILL) before removing it"},
	},
	Action: rmAction,
}

// rmAction removes each named container and prints its name, as docker rm
// does; it goes on after a failure and reports every failure at the end.
func rmAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return &exitError{code: 125, err: errors.New("\"gocker rm\" requires at least 1 argument: CONTAINER [CONTAINER...]")}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	force := c.Bool("force")
	var errs []error
	for _, ref := range c.Args().Slice() {
		ctr, err := st.containers.Get(ref)
		switch {
		case err != nil:
		case force:
			err = st.containers.ForceRemove(c.Context, ctr)
		default:
			err = st.containers.Remove(c.Context, ctr)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.App.Writer, ref)
	}
	return joinFailures(errs)
}
