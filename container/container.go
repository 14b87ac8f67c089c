package container

import (
	"os"
	"time"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/gocker/gocker/netstack"
)

// Container is the record of one container, stored as config.json in its
// directory. Its shape follows Docker's inspect output where the two
// overlap.
type Container struct {
	ID      string    `json:"Id"`
	Name    string    `json:"Name"`
	Created time.Time `json:"Created"`
	// Image is the reference the user gave; ImageID the image's config
	// digest.
	Image   string `json:"Image"`
	ImageID string `json:"ImageID"`
	// Layers are the image's layer directories, bottom first. The record
	// keeps them so that removing the image cannot remove a layer that a
	// container still mounts.
	Layers     []string   `json:"Layers"`
	Config     Config     `json:"Config"`
	HostConfig HostConfig `json:"HostConfig"`
	Rootless   bool       `json:"Rootless"`

	// Network is the network the container requests. NetworkSettings
	// is the network it runs with, kept in network.json while it runs.
	Network         NetworkConfig      `json:"Network"`
	NetworkSettings *netstack.Settings `json:"NetworkSettings,omitempty"`

	// State is kept in state.json, apart from the record, because the
	// monitor rewrites it while the record stays the same.
	State State `json:"-"`

	// ServeBindListener, set by a hook for one start, takes the
	// listener of the init's bind notification filter once the
	// container's process runs (port_handler=bypass).
	ServeBindListener func(listener *os.File) error `json:"-"`
}

// Config is the process configuration of a container: the image's config
// with the user's options applied.
type Config struct {
	Hostname   string            `json:"Hostname"`
	User       string            `json:"User,omitempty"`
	Env        []string          `json:"Env"`
	Cmd        []string          `json:"Cmd"`
	Entrypoint []string          `json:"Entrypoint"`
	WorkingDir string            `json:"WorkingDir"`
	Tty        bool              `json:"Tty"`
	OpenStdin  bool              `json:"OpenStdin"`
	Labels     map[string]string `json:"Labels,omitempty"`
	// StopSignal is the signal that stop sends first: --stop-signal, else
	// the image's STOPSIGNAL, else SIGTERM.
	StopSignal string `json:"StopSignal,omitempty"`
	// StopTimeout is --stop-timeout in seconds; nil means stop's default.
	StopTimeout *int `json:"StopTimeout,omitempty"`
}

// HostConfig is how the container uses the host.
type HostConfig struct {
	Binds       []Mount  `json:"Binds,omitempty"`
	NetworkMode string   `json:"NetworkMode"`
	ReadOnly    bool     `json:"ReadonlyRootfs"`
	CapAdd      []string `json:"CapAdd,omitempty"`
	CapDrop     []string `json:"CapDrop,omitempty"`
	// SecurityOpt are the --security-opt values as ParseSecurityOpts
	// returns them; a profile file is kept as its JSON.
	SecurityOpt   []string      `json:"SecurityOpt,omitempty"`
	AutoRemove    bool          `json:"AutoRemove"`
	RestartPolicy RestartPolicy `json:"RestartPolicy"`
	LogConfig     LogConfig     `json:"LogConfig"`
	// Init runs gocker's own init as PID 1 (--init), which forwards
	// signals to the command and reaps orphaned processes.
	Init bool `json:"Init,omitempty"`
	// Resources are the limits; their fields appear in HostConfig itself,
	// as in Docker's.
	cgroupv2.Resources
}

// Container states, as Docker names them.
const (
	StatusCreated    = "created"
	StatusRunning    = "running"
	StatusRestarting = "restarting"
	StatusExited     = "exited"
)

// State is the lifecycle state of a container.
type State struct {
	Status string `json:"Status"`
	// Pid is the host pid of the container's process (its PID 1) while it
	// runs, 0 otherwise.
	Pid int `json:"Pid"`
	// PidStartTime is the process's start time in clock ticks since boot
	// (field 22 of /proc/PID/stat), which tells a recycled pid apart.
	PidStartTime uint64 `json:"PidStartTime,omitempty"`
	// MonitorPid and MonitorStartTime identify the process that monitors
	// the container (the detached monitor, or gocker run in the
	// foreground) while it holds the monitor lock.
	MonitorPid       int       `json:"MonitorPid,omitempty"`
	MonitorStartTime uint64    `json:"MonitorStartTime,omitempty"`
	ExitCode         int       `json:"ExitCode"`
	StartedAt        time.Time `json:"StartedAt"`
	FinishedAt       time.Time `json:"FinishedAt"`
	Error            string    `json:"Error,omitempty"`
	// OOMKilled is true when the kernel's OOM killer killed a process of
	// the container, which only a container with limits can tell.
	OOMKilled bool `json:"OOMKilled"`
	// RestartCount is how often the monitor restarted the container under
	// its restart policy since the last start by a user.
	RestartCount int `json:"RestartCount,omitempty"`
	// Cgroups are the cgroup directories (absolute paths, each with a
	// cgroup.procs file) that the container's process was placed in by a
	// hook; gocker exec places its process in the same ones. Empty when the
	// container has no cgroup of its own.
	Cgroups []string `json:"Cgroups,omitempty"`
}

// Running reports whether the container's process runs.
func (s State) Running() bool { return s.Status == StatusRunning }

// ShortID returns the 12-character id that Docker prints.
func (c *Container) ShortID() string { return c.ID[:12] }

// Command returns the container's command line: entrypoint then command.
func (c *Container) Command() []string {
	args := append([]string{}, c.Config.Entrypoint...)
	return append(args, c.Config.Cmd...)
}
