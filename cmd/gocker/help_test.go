package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// commandPaths returns the name path of every command and subcommand
// of cmds, such as ["image", "inspect"].
func commandPaths(prefix []string, cmds []*cli.Command) [][]string {
	var paths [][]string
	for _, cmd := range cmds {
		path := append(append([]string{}, prefix...), cmd.Name)
		paths = append(paths, path)
		paths = append(paths, commandPaths(path, cmd.Subcommands)...)
	}
	return paths
}

// runApp runs a new gocker app with args and returns what it wrote to
// stdout and stderr, and its error.
func runApp(args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	err := app.Run(append([]string{"gocker"}, args...))
	return stdout.String(), stderr.String(), err
}

func TestUnknownFlagEveryCommand(t *testing.T) {
	for _, path := range commandPaths(nil, newApp().Commands) {
		name := strings.Join(path, " ")
		for _, flag := range []string{"--bogus", "-Z"} {
			stdout, stderr, err := runApp(append(path, flag)...)
			var ee *exitError
			if !errors.As(err, &ee) {
				t.Errorf("gocker %s %s: error %v, want a usage error", name, flag, err)
				continue
			}
			if ee.code != 125 {
				t.Errorf("gocker %s %s: exit status %d, want 125", name, flag, ee.code)
			}
			want := "unknown flag: --bogus"
			if flag == "-Z" {
				want = "unknown shorthand flag: -Z"
			}
			if ee.err.Error() != want {
				t.Errorf("gocker %s %s: message %q, want %q", name, flag, ee.err, want)
			}
			if wantHint := "See 'gocker " + name + " --help'."; ee.hint != wantHint {
				t.Errorf("gocker %s %s: hint %q, want %q", name, flag, ee.hint, wantHint)
			}
			if stdout != "" || stderr != "" {
				t.Errorf("gocker %s %s printed stdout %q and stderr %q, want only the error", name, flag, stdout, stderr)
			}
		}
	}
}

func TestHelpShowsOneDefault(t *testing.T) {
	paths := append([][]string{nil}, commandPaths(nil, newApp().Commands)...)
	for _, path := range paths {
		name := strings.Join(append([]string{"gocker"}, path...), " ")
		stdout, _, err := runApp(append(path, "--help")...)
		if err != nil {
			t.Errorf("%s --help: %v", name, err)
			continue
		}
		if !strings.Contains(stdout, "--help") {
			t.Errorf("%s --help printed no flags: %q", name, stdout)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("%s --help shows two defaults: %q", name, line)
			}
			// A boolean flag is off unless given, so its default adds
			// nothing.
			if strings.Contains(line, "(default: false)") {
				t.Errorf("%s --help shows a boolean flag's default: %q", name, line)
			}
			if strings.Contains(line, "default") && strings.Contains(line, "--all") && strings.Contains(name, "images") {
				t.Errorf("%s --help calls --all a default: %q", name, line)
			}
		}
	}
}

// flagArg returns name as typed on the command line: "-t" or "--time".
func flagArg(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// commandFlags returns the flags of the command at path, or the app's
// global flags for an empty path.
func commandFlags(app *cli.App, path []string) []cli.Flag {
	flags := app.Flags
	cmds := app.Commands
	for _, name := range path {
		for _, cmd := range cmds {
			if cmd.Name == name {
				flags, cmds = cmd.Flags, cmd.Subcommands
				break
			}
		}
	}
	return flags
}

func TestFlagValueErrorEveryCommand(t *testing.T) {
	app := newApp()
	paths := append([][]string{nil}, commandPaths(nil, app.Commands)...)
	checked := 0
	for _, path := range paths {
		for _, f := range commandFlags(app, path) {
			var value, want string
			switch f.(type) {
			case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
				value, want = "x", "expected an integer"
			case *cli.Float64Flag:
				value, want = "x", "expected a number, such as 1.5"
			case *cli.DurationFlag:
				value, want = "x", "expected a duration, such as 10s or 1m30s"
			case *cli.BoolFlag:
				value, want = "maybe", "expected true or false"
			default:
				continue
			}
			label := flagLabel(f)
			for _, name := range f.Names() {
				if name == "help" {
					continue
				}
				args := append(append([]string{}, path...), flagArg(name)+"="+value)
				if len(path) == 0 {
					args = append(args, "version")
				}
				command := "gocker " + strings.Join(args, " ")
				_, _, err := runApp(args...)
				var ee *exitError
				if !errors.As(err, &ee) {
					t.Errorf("%s: error %v, want a usage error", command, err)
					continue
				}
				if ee.code != 125 {
					t.Errorf("%s: exit status %d, want 125", command, ee.code)
				}
				wantMsg := `invalid argument "` + value + `" for "` + label + `" flag: ` + want
				if ee.err.Error() != wantMsg {
					t.Errorf("%s: message %q, want %q", command, ee.err, wantMsg)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no numeric or boolean flag found")
	}
}

func TestFlagValueErrorLabel(t *testing.T) {
	_, _, err := runApp("stop", "-t", "x", "box")
	var ee *exitError
	if !errors.As(err, &ee) {
		t.Fatalf("stop -t x: error %v, want a usage error", err)
	}
	if want := `invalid argument "x" for "-t, --time, --timeout" flag: expected an integer`; ee.err.Error() != want {
		t.Errorf("stop -t x: message %q, want %q", ee.err, want)
	}
	_, _, err = runApp("run", "--pids-limit", "99999999999999999999", "busybox")
	if !errors.As(err, &ee) {
		t.Fatalf("run --pids-limit out of range: error %v, want a usage error", err)
	}
	if want := `invalid argument "99999999999999999999" for "--pids-limit" flag: value out of range`; ee.err.Error() != want {
		t.Errorf("run --pids-limit out of range: message %q, want %q", ee.err, want)
	}
}
