package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a command in a running container",
	ArgsUsage: "CONTAINER COMMAND [ARG...]",
	Description: `Runs COMMAND in every namespace and the cgroup of the running container,
with the container's environment (plus -e and --env-file), working
directory, user, capabilities and no_new_privs, and exits with its exit
status: 126 when it cannot be executed, 127 when it is not found, 125 when
gocker fails or the container does not run. Nothing from the container's
image is needed besides the command. Rootless, it needs nsenter from
util-linux.`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "connect standard input to the command"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the command a terminal"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "start the command and return at once, leaving it to run"},
		newListFlag("env", "e", "set an environment variable: KEY=VALUE, or KEY to pass the host's value"),
		newListFlag("env-file", "", "read environment variables from a file of KEY=VALUE lines"),
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory in the container (default: the container's)"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "user in the container: USER[:GROUP], names or numeric ids (default: the container's)"},
	},
	UseShortOptionHandling: true,
	Action:                 execAction,
}

func execAction(c *cli.Context) error {
	if c.NArg() < 2 {
		return &exitError{code: 125, err: errors.New("\"gocker exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]")}
	}
	opts := container.ExecOptions{
		Args:        c.Args().Tail(),
		WorkingDir:  c.String("workdir"),
		User:        c.String("user"),
		Interactive: c.Bool("interactive"),
		Tty:         c.Bool("tty"),
		Detach:      c.Bool("detach"),
	}
	if opts.WorkingDir != "" && !filepath.IsAbs(opts.WorkingDir) {
		return &exitError{code: 125, err: fmt.Errorf("invalid --workdir %q: the working directory must be an absolute path", opts.WorkingDir)}
	}
	if err := container.ValidateUser(opts.User); err != nil {
		return &exitError{code: 125, err: err}
	}
	if opts.Tty && opts.Interactive && !opts.Detach && !term.IsTerminal(int(os.Stdin.Fd())) {
		return &exitError{code: 125, err: container.ErrNotATerminal}
	}
	env, err := readEnv(c.StringSlice("env-file"), c.StringSlice("env"))
	if err != nil {
		return &exitError{code: 125, err: err}
	}
	opts.Env = env
	st, ctr, err := firstContainer(c)
	if err != nil {
		return err
	}
	// On success the process becomes the exec helper and never returns
	// here.
	return st.containers.Exec(c.Context, ctr, opts)
}
