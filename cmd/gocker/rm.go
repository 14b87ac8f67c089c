package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

var rmCommand = &cli.Command{
	Name:      "rm",
	Usage:     "remove stopped containers",
	ArgsUsage: "CONTAINER [CONTAINER...]",
	Action:    rmAction,
}

// rmAction removes each named container and prints its name, as docker rm
// does. It goes on after a failure and reports every failure at the end.
func rmAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return &exitError{code: 125, err: errors.New("\"gocker rm\" requires at least 1 argument: CONTAINER [CONTAINER...]")}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range c.Args().Slice() {
		ctr, err := st.containers.Get(ref)
		if err == nil {
			err = st.containers.Remove(c.Context, ctr)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.App.Writer, ref)
	}
	if len(errs) > 0 {
		return &exitError{code: 1, err: errors.Join(errs...)}
	}
	return nil
}
