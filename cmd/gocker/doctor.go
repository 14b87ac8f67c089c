package main

import (
	"fmt"
	"strings"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/gocker/gocker/hostcheck"
	"github.com/gocker/gocker/netstack"
	"github.com/gocker/gocker/overlay"
	"github.com/gocker/gocker/userns"
	"github.com/urfave/cli/v2"
)

var doctorCommand = &cli.Command{
	Name:      "doctor",
	Usage:     "check what this host allows gocker to do, with the fix for each problem",
	ArgsUsage: " ",
	Description: `Checks the host for the calling user and prints one row per check with
its status and what was found. Under each "fail" and "warn" row, a "fix:"
line gives the commands that fix it; lines starting with # are steps that
no single command covers. The checks only read the host, except that they
create a user namespace, mount overlay inside a private mount namespace in
a temporary directory of the store root (creating the store root if it is
missing), open /dev/net/tun without creating an interface, run
"slirp4netns --version" and "pasta --version" (and dpkg-query where a
tool prints no version) and, as root, list the nftables tables of the
current network namespace, for which the kernel may load nf_tables.

Statuses:
  ok    the host allows what the check looks for
  warn  an optional feature is unavailable (such as resource limits) or
        the setup is unusual; "gocker run" still works
  fail  a required check failed
  info  a fact that needs no action

Required checks, without which "gocker run" with its default options
cannot work for the calling user:
  unprivileged user: kernel, subids, newuidmap, newgidmap, userns-max,
    userns-clone, userns-apparmor, userns-create, store-fs, overlay, tun,
    and slirp4netns or pasta (one is enough; --network host and
    --network none need neither, nor /dev/net/tun)
  root: kernel, store-fs and overlay

Exit status: 0 when no check fails, 1 when a required check fails, 125
when doctor itself cannot run.`,
	Flags: []cli.Flag{
		&cli.StringFlag{
			Name:  "format",
			Value: "table",
			Usage: `output format: "table", or "json" for an array of {"check", "status", "detail", "fix"} objects`,
		},
	},
	Action: runDoctor,
}

func runDoctor(c *cli.Context) error {
	format := c.String("format")
	if format != "table" && format != "json" {
		return &exitError{code: 125, err: fmt.Errorf("invalid --format %q: use table or json", format)}
	}
	if c.NArg() > 0 {
		return &exitError{code: 125, err: fmt.Errorf("doctor takes no arguments, got %q", c.Args().First())}
	}
	results := collectChecks(c)
	if err := printResults(c.App.Writer, format, results); err != nil {
		return err
	}
	if failed := hostcheck.Failed(results); len(failed) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("required checks failed: %s", strings.Join(failed, ", "))}
	}
	return nil
}

// collectChecks runs every check in the order the table prints them.
func collectChecks(c *cli.Context) []hostcheck.Result {
	ctx := c.Context
	results := append([]hostcheck.Result{overlay.CheckKernel()}, userns.CheckHost(ctx)...)
	if root, err := storeRoot(c); err != nil {
		results = append(results, hostcheck.Result{
			Check: "store-fs", Status: hostcheck.Fail, Detail: err.Error(),
			Fix: []string{"# pass --root DIR or set GOCKER_ROOT=DIR"},
		})
	} else {
		results = append(results, overlay.CheckHost(ctx, root)...)
	}
	results = append(results, cgroupv2.CheckHost()...)
	results = append(results, netstack.CheckHost(ctx)...)
	return append(results, checkRuntimeDir(), checkInitBinary(ctx))
}
