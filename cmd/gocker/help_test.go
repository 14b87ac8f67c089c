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
		}
	}
}
