// Command gocker runs OCI containers without a daemon, for unprivileged
// users and for root.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
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

// helpFlag is --help only, because Docker's run uses -h for --hostname.
// It is one value for every app, since urfave/cli adds it to the flags of
// the package-level commands unless the same flag is there already.
var helpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}

// defaultFlagStringer is urfave/cli's own formatting of a flag's help
// line, which flagHelpLine wraps.
var defaultFlagStringer = cli.FlagStringer

// flagHelpLine formats a flag's help line as urfave/cli does, without
// "(default: false)" on boolean flags: a flag that is off unless given
// needs no default.
func flagHelpLine(f cli.Flag) string {
	line := defaultFlagStringer(f)
	if _, ok := f.(*cli.BoolFlag); ok {
		line = strings.Replace(line, " (default: false)", "", 1)
	}
	return line
}

func newApp() *cli.App {
	cli.HelpFlag = helpFlag
	cli.FlagStringer = flagHelpLine
	app := &cli.App{
		Name:                      "gocker",
		Usage:                     "run containers without a daemon, as an unprivileged user or as root",
		Version:                   version,
		EnableBashCompletion:      true,
		UseShortOptionHandling:    true,
		DisableSliceFlagSeparator: true,
		Flags:                     globalFlags(),
		Before:                    setupLogging,
		OnUsageError:              usageError,
		CommandNotFound:           commandNotFound,
		ExitErrHandler:            func(*cli.Context, error) {},
		Commands: []*cli.Command{
			runCommand,
			createCommand,
			psCommand,
			portCommand,
			rmCommand,
			renameCommand,
			startCommand,
			stopCommand,
			restartCommand,
			killCommand,
			waitCommand,
			logsCommand,
			execCommand,
			inspectCommand,
			topCommand,
			statsCommand,
			containerCommand,
			imagesCommand,
			imageCommand,
			historyCommand("history"),
			pullCommand,
			pushCommand,
			tagCommand,
			loginCommand,
			logoutCommand,
			rmiCommand,
			commitCommand,
			saveCommand,
			loadCommand,
			initCommand,
			importCommand,
			systemCommand,
			doctorCommand,
			versionCommand,
		},
	}
	setupCommands(app.Commands)
	return app
}

// setupCommands makes cmds and their subcommands, at every level, report
// flag errors with usageError and leave out urfave/cli's help command. It
// clears HelpName, which urfave/cli prefixes with the app's name at every
// run, so that each new app of the package-level commands starts afresh.
func setupCommands(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.OnUsageError = usageError
		cmd.HideHelpCommand = true
		cmd.HelpName = ""
		setupCommands(cmd.Subcommands)
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

// exitError carries the exit status gocker returns for an error, and a
// line printed after the message.
type exitError struct {
	code int
	err  error
	hint string
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
	if errors.As(err, &ee) && ee.hint != "" {
		fmt.Fprintln(os.Stderr, ee.hint)
	}
	return exitStatus(err)
}

// exitStatus returns the status gocker exits with for err.
func exitStatus(err error) int {
	var status statusError
	if errors.As(err, &status) {
		return status.code
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var coder exitCoder
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	// Docker's daemon refuses these, and its client exits 1 for them;
	// run and create exit 125 for them (runFailure).
	if errors.Is(err, container.ErrNotFound) || errors.Is(err, image.ErrNotFound) || errors.Is(err, container.ErrNotRunning) {
		return 1
	}
	return 125
}

// runFailure gives an error of gocker run or create the status 125, which
// Docker's run exits with when gocker fails, unless the error carries a
// status already (126 and 127 for a command that cannot run).
func runFailure(err error) error {
	var status statusError
	var ee *exitError
	var coder exitCoder
	if err == nil || errors.As(err, &status) || errors.As(err, &ee) || errors.As(err, &coder) {
		return err
	}
	return &exitError{code: 125, err: err}
}

// usageError reports a flag error as Docker does ("unknown flag: --x"),
// without printing the whole help, and shows the help for -h, which
// gocker does not define outside run.
func usageError(c *cli.Context, err error, isSubcommand bool) error {
	if errors.Is(err, flag.ErrHelp) {
		if isSubcommand && c.Command != nil {
			return cli.ShowCommandHelp(c, c.Command.Name)
		}
		return cli.ShowAppHelp(c)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag: --" + strings.TrimPrefix(name, "-")
		if len(name) == 1 {
			msg = "unknown shorthand flag: -" + name
		}
	}
	if rewritten, ok := flagValueError(c, msg); ok {
		msg = rewritten
	}
	helpName := "gocker"
	if c.Command != nil && c.Command.HelpName != "" {
		helpName = c.Command.HelpName
	}
	return &exitError{code: 125, err: errors.New(msg), hint: fmt.Sprintf("See '%s --help'.", helpName)}
}

// flagValuePattern matches the flag package's errors for a value that does
// not parse: `invalid value "x" for flag -name: parse error` and
// `invalid boolean value "x" for -name: parse error`. It is compiled on
// first use, so that container inits and helpers do not pay for it.
var flagValuePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([^ :]+): (.+)$`)
})

// flagValueError rewrites the flag package's error msg for a value that
// does not parse as Docker words it, with every name of the flag and the
// expected kind of value: `invalid argument "x" for "-t, --time" flag:
// expected an integer`. ok is false for other errors.
func flagValueError(c *cli.Context, msg string) (string, bool) {
	m := flagValuePattern().FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	value, err := strconv.Unquote(m[1])
	if err != nil {
		return "", false
	}
	f := findFlag(c, m[2])
	if f == nil {
		return "", false
	}
	reason := expectedValue(f)
	if m[3] == "value out of range" {
		reason = m[3]
	}
	return fmt.Sprintf("invalid argument %q for %q flag: %s", value, flagLabel(f), reason), true
}

// findFlag returns the flag of c's command, or of the app, that has name
// as its name or alias, or nil.
func findFlag(c *cli.Context, name string) cli.Flag {
	var flags []cli.Flag
	if c.Command != nil {
		flags = append(flags, c.Command.Flags...)
	}
	flags = append(flags, c.App.Flags...)
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// flagLabel returns the names of f as Docker's errors list them: one-letter
// names with one dash first, then long names with two, "-t, --time".
func flagLabel(f cli.Flag) string {
	var short, long []string
	for _, name := range f.Names() {
		if len(name) == 1 {
			short = append(short, "-"+name)
		} else {
			long = append(long, "--"+name)
		}
	}
	return strings.Join(append(short, long...), ", ")
}

// expectedValue describes the values that flag f takes.
func expectedValue(f cli.Flag) string {
	switch f.(type) {
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return "expected an integer"
	case *cli.Float64Flag:
		return "expected a number, such as 1.5"
	case *cli.DurationFlag:
		return "expected a duration, such as 10s or 1m30s"
	case *cli.BoolFlag:
		return "expected true or false"
	}
	return "invalid value"
}

// commandNotFound reports an unknown command, or an unknown subcommand of
// a command group such as "gocker container ls", with the help to read.
func commandNotFound(c *cli.Context, name string) {
	group := "gocker"
	if c.Command != nil && c.Command.HelpName != "" {
		group = c.Command.HelpName
	}
	full := strings.TrimPrefix(group+" "+name, "gocker ")
	fmt.Fprintf(c.App.ErrWriter, "gocker: unknown command %q\nSee '%s --help'.\n", full, group)
	os.Exit(125)
}
