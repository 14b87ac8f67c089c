// Command gocker runs OCI containers without a daemon, for unprivileged
// users and for root.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gocker/gocker/reexec"
	"github.com/urfave/cli/v2"
)

func main() {
	// Internal roles (container init, user namespace helpers) are selected
	// by argv[0] before anything else runs.
	if reexec.Init() {
		os.Exit(0)
	}
	os.Exit(run(os.Args))
}

func run(args []string) int {
	app := newApp()
	err := app.Run(args)
	if err == nil {
		return 0
	}
	return reportError(err)
}

func newApp() *cli.App {
	// Docker's run uses -h for --hostname, so help is --help only.
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	return &cli.App{
		Name:                      "gocker",
		Usage:                     "run containers without a daemon, as an unprivileged user or as root",
		Version:                   version,
		EnableBashCompletion:      true,
		UseShortOptionHandling:    true,
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           true,
		Flags:                     globalFlags(),
		Before:                    setupLogging,
		OnUsageError:              usageError,
		ExitErrHandler:            func(*cli.Context, error) {},
		Commands: []*cli.Command{
			runCommand,
			psCommand,
			rmCommand,
			statsCommand,
			imagesCommand,
			rmiCommand,
			initCommand,
			importCommand,
			doctorCommand,
			versionCommand,
		},
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var versionCommand = &cli.Command{
	Name:  "version",
	Usage: "print the gocker version",
	Action: func(c *cli.Context) error {
		fmt.Fprintf(c.App.Writer, "gocker version %s\n", version)
		return nil
	},
}

// exitError carries the exit status gocker returns for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// statusError is an exit status without a message: the container's own
// status, returned by gocker run.
type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCoder is implemented by errors from the container package that carry
// Docker's exit statuses (125, 126, 127).
type exitCoder interface{ ExitCode() int }

// reportError prints err and returns its exit status. gocker's own errors
// exit with 125, as Docker's do.
func reportError(err error) int {
	var status statusError
	if errors.As(err, &status) {
		return status.code
	}
	fmt.Fprintf(os.Stderr, "gocker: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var coder exitCoder
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	return 125
}

func usageError(c *cli.Context, err error, isSubcommand bool) error {
	return &exitError{code: 125, err: fmt.Errorf("%w\nSee '%s --help'.", err, c.Command.HelpName)}
}
