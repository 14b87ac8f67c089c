// Package reexec registers the internal entry points of the gocker binary and
// selects one by argv[0] before any other work in main.
//
// gocker starts its helpers (the container init, the user namespace helper)
// by executing /proc/self/exe with argv[0] set to a registered name, so one
// binary serves every role and no second copy has to be found on disk.
//
// Do not use it for anything that can run in the calling process: each
// re-exec costs a fork, an execve and a Go runtime start (about 1.5 ms).
package reexec

import (
	"fmt"
	"os"
	"strings"
)

// SelfExe is the path every helper is started from. The kernel resolves it
// to the running binary even when that file was replaced or removed.
const SelfExe = "/proc/self/exe"

// EnvRole names the entry point of a helper started through another
// program that sets argv[0] itself, such as nsenter. It is removed from
// the environment before the entry point runs.
const EnvRole = "_GOCKER_REEXEC"

var entries = map[string]func(){}

// Register adds an entry point under name. It panics on a duplicate name,
// because two packages claiming the same role is a programming error.
func Register(name string, fn func()) {
	if _, ok := entries[name]; ok {
		panic(fmt.Sprintf("reexec: entry %q registered twice", name))
	}
	entries[name] = fn
}

// fdPathPrefix starts the path of a binary executed through a file
// descriptor.
const fdPathPrefix = "/proc/self/fd/"

// Init runs the entry point named by argv[0], or else by $_GOCKER_REEXEC,
// and reports whether one ran. Entry points normally exit or exec and
// never return; if one returns, Init returns true and main must exit.
//
// A helper started by a tool that cannot set argv[0], such as nsenter(1)
// executing /proc/self/fd/N, has that path as argv[0]; its name is then
// argv[1], and Init drops the path from os.Args.
func Init() bool {
	name := os.Args[0]
	if strings.HasPrefix(name, fdPathPrefix) && len(os.Args) > 1 {
		name = os.Args[1]
		if _, ok := entries[name]; ok {
			os.Args = os.Args[1:]
		}
	}
	fn, ok := entries[name]
	if !ok {
		role, set := os.LookupEnv(EnvRole)
		if !set {
			return false
		}
		os.Unsetenv(EnvRole)
		if fn, ok = entries[role]; !ok {
			fmt.Fprintf(os.Stderr, "gocker: unknown internal role %q in $%s\n", role, EnvRole)
			os.Exit(125)
		}
	}
	fn()
	return true
}
