package container

import (
	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/seccomp"
)

// ExecOptions are the options of gocker exec, already parsed.
type ExecOptions struct {
	Args []string
	// Env is set on top of the container's configured environment:
	// --env-file, then -e.
	Env []string
	// WorkingDir and User replace the container's configured ones when
	// set.
	WorkingDir string
	User       string
	// Interactive connects standard input, Tty gives the process a
	// terminal, and Detach returns as soon as the process runs.
	Interactive bool
	Tty         bool
	Detach      bool
}

// execSpec is what the exec helper needs to start the process in the
// container. It travels as JSON in a memfd.
type execSpec struct {
	Args         []string `json:"args"`
	Env          []string `json:"env"`
	Cwd          string   `json:"cwd"`
	User         string   `json:"user,omitempty"`
	Capabilities []string `json:"capabilities"`
	// Seccomp is the container's filter, which the helper installs right
	// before it forks the process; nil runs it unconfined.
	Seccomp     *initproc.SeccompFilter `json:"seccomp,omitempty"`
	Tty         bool                    `json:"tty,omitempty"`
	Interactive bool                    `json:"interactive,omitempty"`
	Detach      bool                    `json:"detach,omitempty"`
	// Cgroups are cgroup directories to join before the namespaces.
	Cgroups []string `json:"cgroups,omitempty"`
	// Namespaces are the open namespace files to join, by type, in the
	// order given: the helper's file descriptor numbers.
	Namespaces []execNamespace `json:"namespaces"`
}

// execNamespace is one namespace file passed to the exec helper.
type execNamespace struct {
	Type string `json:"type"` // as in /proc/PID/ns: "mnt", "pid", ...
	FD   int    `json:"fd"`
}

// newExecSpec combines the container's configuration with the exec
// options, as Docker does: the container's environment, working directory
// and user, each replaced or extended by the options.
func newExecSpec(c *Container, opts ExecOptions, caps []string, filter *seccomp.Filter) *execSpec {
	spec := &execSpec{
		Args:         opts.Args,
		Env:          MergeEnv(processEnv(c), opts.Env),
		Cwd:          c.Config.WorkingDir,
		User:         c.Config.User,
		Capabilities: caps,
		Seccomp:      (*initproc.SeccompFilter)(filter),
		Tty:          opts.Tty,
		Interactive:  opts.Interactive,
		Detach:       opts.Detach,
		Cgroups:      c.State.Cgroups,
	}
	if opts.WorkingDir != "" {
		spec.Cwd = opts.WorkingDir
	}
	if spec.Cwd == "" {
		spec.Cwd = "/"
	}
	if opts.User != "" {
		spec.User = opts.User
	}
	if opts.Tty && !initproc.HasEnv(spec.Env, "TERM") {
		spec.Env = append(spec.Env, "TERM=xterm")
	}
	return spec
}
