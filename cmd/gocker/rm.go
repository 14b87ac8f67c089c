package main

import (
	"github.com/gocker/gocker/container"
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
// does. It goes on after a failure and reports every failure at the end.
func rmAction(c *cli.Context) error {
	force := c.Bool("force")
	return eachContainer(c, "CONTAINER [CONTAINER...]", func(st *stores, ctr *container.Container) (string, error) {
		if force {
			return "", st.containers.ForceRemove(c.Context, ctr)
		}
		return "", st.containers.Remove(c.Context, ctr)
	})
}
