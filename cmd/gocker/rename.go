package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

var renameCommand = &cli.Command{
	Name:        "rename",
	Usage:       "rename a container",
	ArgsUsage:   "CONTAINER NEW_NAME",
	Description: `Gives a container, running or not, a new name and frees the old one.`,
	Action:      renameAction,
}

func renameAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return &exitError{code: 125, err: errors.New("\"gocker rename\" requires exactly 2 arguments: CONTAINER NEW_NAME")}
	}
	st, ctr, err := firstContainer(c)
	if err != nil {
		// As inspect and top do for a missing container.
		return &exitError{code: 1, err: err}
	}
	return st.containers.Rename(ctr, c.Args().Get(1))
}
