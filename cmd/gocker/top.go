package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

var topCommand = &cli.Command{
	Name:      "top",
	Usage:     "list the processes of a running container",
	ArgsUsage: "CONTAINER",
	Description: `Lists every process in the container's PID namespace with the columns of
"ps -ef": UID (the host user), PID and PPID (host pids), C, STIME, TTY,
TIME and CMD.`,
	Action: topAction,
}

func topAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{code: 125, err: errors.New("\"gocker top\" requires exactly 1 argument: CONTAINER (ps options are not supported)")}
	}
	st, ctr, err := firstContainer(c)
	if err != nil {
		return err
	}
	procs, err := st.containers.Top(ctr)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 1, ' ', 0)
	fmt.Fprintln(w, "UID\tPID\tPPID\tC\tSTIME\tTTY\tTIME\tCMD")
	for _, p := range procs {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", p.UID, p.PID, p.PPID, p.C, p.STIME, p.TTY, p.TIME, p.CMD)
	}
	return w.Flush()
}
