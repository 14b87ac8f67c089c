package main

import (
	"testing"

	"github.com/urfave/cli/v2"
)

// flagGiven must agree with urfave/cli's IsSet for every flag of run.
func TestFlagGivenMatchesIsSet(t *testing.T) {
	lines := [][]string{
		{"run", "img"},
		{"run", "-m", "64m", "--cpus", "1", "img"},
		{"run", "--memory", "64m", "--entrypoint", "", "--stop-timeout", "3", "img"},
		{"run", "--net", "none", "--platform", "linux/amd64", "-e", "A=1", "--env", "B=2", "-it", "img", "sh"},
		{"run", "--rm", "--network=host", "-c", "512", "img"},
	}
	cli.HelpFlag = helpFlag // -h is --hostname, as in newApp
	for _, args := range lines {
		checked := 0
		cmd := &cli.Command{
			Name:                   "run",
			Flags:                  runFlags(),
			UseShortOptionHandling: true,
			Action: func(c *cli.Context) error {
				for _, f := range c.Command.Flags {
					for _, name := range f.Names() {
						if got, want := flagGiven(c, name), c.IsSet(name); got != want {
							t.Errorf("%v: flagGiven(%q) = %v, IsSet = %v", args, name, got, want)
						}
						checked++
					}
				}
				return nil
			},
		}
		app := &cli.App{Name: "gocker", Commands: []*cli.Command{cmd}}
		if err := app.Run(append([]string{"gocker"}, args...)); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if checked < 40 {
			t.Errorf("%v: compared %d flag names, want every flag of run", args, checked)
		}
	}
}
