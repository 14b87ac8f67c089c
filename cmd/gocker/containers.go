package main

import (
	"errors"
	"fmt"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
)

// eachContainer runs fn on every container the command names and prints,
// for each that succeeds, what fn returns, or the name as the user gave it
// when fn returns "". It goes on after a failure: the failures together
// become the command's error, with exit status 1 as Docker's. usage names
// the arguments for the error without any.
func eachContainer(c *cli.Context, usage string, fn func(st *stores, ctr *container.Container) (string, error)) error {
	if c.NArg() == 0 {
		return &exitError{code: 125, err: fmt.Errorf("\"gocker %s\" requires at least 1 argument: %s", c.Command.Name, usage)}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range c.Args().Slice() {
		ctr, err := st.containers.Get(ref)
		var line string
		if err == nil {
			line, err = fn(st, ctr)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if line == "" {
			line = ref
		}
		fmt.Fprintln(c.App.Writer, line)
	}
	return joinFailures(errs)
}

// joinFailures turns the failures of a command that works on several
// containers into its error: exit status 1, as Docker's.
func joinFailures(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return &exitError{code: 1, err: errors.Join(errs...)}
}

// firstContainer opens the stores and finds the container that the
// command's first argument names.
func firstContainer(c *cli.Context) (*stores, *container.Container, error) {
	st, err := openStores(c)
	if err != nil {
		return nil, nil, err
	}
	ctr, err := st.containers.Get(c.Args().First())
	if err != nil {
		return nil, nil, err
	}
	return st, ctr, nil
}
