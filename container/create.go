package container

import (
	"fmt"
	"os"
	"path"
	"time"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/netstack"
	"github.com/gocker/gocker/overlay"
	"github.com/gocker/gocker/userns"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Network modes available without a network driver.
const (
	NetworkNone = "none"
	NetworkHost = "host"
)

// CreateOptions are the options of gocker run and create that shape a
// container, already parsed and validated by the command line.
type CreateOptions struct {
	// ID is the container's id; empty chooses a new one.
	ID          string
	Name        string
	Image       string
	ImageID     string
	Layers      []string // diff ids, bottom first
	ImageConfig v1.Config

	Env        []string // from --env-file, then --env
	Workdir    string
	User       string
	Hostname   string
	Entrypoint *string // nil: the image's; "" clears it
	Cmd        []string
	OpenStdin  bool
	Tty        bool
	Binds      []Mount
	Network    string
	ReadOnly   bool
	CapAdd     []string
	CapDrop    []string
	// SecurityOpt are the values ParseSecurityOpts returned.
	SecurityOpt []string
	AutoRemove  bool

	RestartPolicy RestartPolicy
	LogConfig     LogConfig
	Init          bool
	// StopSignal replaces the image's STOPSIGNAL when set.
	StopSignal  string
	StopTimeout *int

	NetworkConfig NetworkConfig
	Resources     cgroupv2.Resources
}

// NewContainer builds the record of a new container from the image's config
// and the user's options, as Docker combines them.
func NewContainer(opts CreateOptions) (*Container, error) {
	if _, err := Capabilities(opts.CapAdd, opts.CapDrop); err != nil {
		return nil, err
	}
	id := opts.ID
	if id == "" {
		id = NewID()
	}
	img := opts.ImageConfig
	c := &Container{
		ID:       id,
		Name:     opts.Name,
		Created:  time.Now().UTC(),
		Image:    opts.Image,
		ImageID:  opts.ImageID,
		Layers:   opts.Layers,
		Rootless: userns.Rootless(),
		Config: Config{
			Hostname:    opts.Hostname,
			User:        img.User,
			Env:         MergeEnv(img.Env, opts.Env),
			Entrypoint:  img.Entrypoint,
			Cmd:         img.Cmd,
			WorkingDir:  img.WorkingDir,
			Tty:         opts.Tty,
			OpenStdin:   opts.OpenStdin,
			Labels:      img.Labels,
			StopSignal:  img.StopSignal,
			StopTimeout: opts.StopTimeout,
		},
		HostConfig: HostConfig{
			Binds:         opts.Binds,
			NetworkMode:   opts.Network,
			ReadOnly:      opts.ReadOnly,
			CapAdd:        opts.CapAdd,
			CapDrop:       opts.CapDrop,
			SecurityOpt:   opts.SecurityOpt,
			AutoRemove:    opts.AutoRemove,
			RestartPolicy: opts.RestartPolicy,
			LogConfig:     opts.LogConfig,
			Init:          opts.Init,
			Resources:     opts.Resources,
		},
		Network: opts.NetworkConfig,
	}
	applyOverrides(c, opts)
	return c, nil
}

func applyOverrides(c *Container, opts CreateOptions) {
	if c.Config.Hostname == "" && opts.Network == NetworkHost {
		// Docker gives a container on the host's network the host's name.
		c.Config.Hostname, _ = os.Hostname()
	}
	if c.Config.Hostname == "" {
		c.Config.Hostname = c.ID[:12]
	}
	if opts.User != "" {
		c.Config.User = opts.User
	}
	if opts.StopSignal != "" {
		c.Config.StopSignal = opts.StopSignal
	}
	if c.HostConfig.RestartPolicy.Name == "" {
		c.HostConfig.RestartPolicy.Name = RestartNo
	}
	if c.HostConfig.LogConfig.Type == "" {
		c.HostConfig.LogConfig.Type = LogDriverJSONFile
	}
	if opts.Workdir != "" {
		c.Config.WorkingDir = opts.Workdir
	}
	if c.Config.WorkingDir == "" {
		c.Config.WorkingDir = "/"
	}
	// As in Docker, --entrypoint replaces the image's entrypoint and
	// drops its command; arguments after the image replace the command.
	if opts.Entrypoint != nil {
		c.Config.Entrypoint = nil
		if *opts.Entrypoint != "" {
			c.Config.Entrypoint = []string{*opts.Entrypoint}
		}
		c.Config.Cmd = nil
	}
	if len(opts.Cmd) > 0 {
		c.Config.Cmd = opts.Cmd
	}
	if !initproc.HasEnv(c.Config.Env, "PATH") {
		c.Config.Env = append([]string{"PATH=" + DefaultPath}, c.Config.Env...)
	}
	if c.Config.Tty && !initproc.HasEnv(c.Config.Env, "TERM") {
		c.Config.Env = append(c.Config.Env, "TERM=xterm")
	}
}

// spec builds the init's Spec for a container whose layers live in
// layersDir.
func (s *Store) spec(c *Container, layersDir string, etcFiles []EtcFile) (*Spec, error) {
	caps, err := Capabilities(c.HostConfig.CapAdd, c.HostConfig.CapDrop)
	if err != nil {
		return nil, err
	}
	dir := s.Dir(c.ID)
	layers := make([]string, 0, len(c.Layers))
	for i := len(c.Layers) - 1; i >= 0; i-- {
		key := c.Layers[i][len("sha256:"):]
		layers = append(layers, key+"/diff")
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("image %s has no layers", c.Image)
	}
	if len(etcFiles) > 0 {
		mountPoints, err := overlay.MountPointLayer(s.root(), netstack.EtcPaths)
		if err != nil {
			return nil, err
		}
		// The bottom layer: see overlay.MountPointLayer.
		layers = append(layers, mountPoints)
	}
	cgroups, err := hostCgroupFS()
	if err != nil {
		return nil, err
	}
	return &Spec{
		ID:           c.ID,
		Rootless:     c.Rootless,
		LayersDir:    layersDir,
		Layers:       layers,
		UpperDir:     path.Join(dir, "upper"),
		WorkDir:      path.Join(dir, "work"),
		MergedDir:    path.Join(dir, "merged"),
		Volatile:     c.HostConfig.AutoRemove,
		Args:         c.Command(),
		Env:          processEnv(c),
		Cwd:          c.Config.WorkingDir,
		User:         c.Config.User,
		Hostname:     c.Config.Hostname,
		Terminal:     c.Config.Tty,
		ReadOnly:     c.HostConfig.ReadOnly,
		Capabilities: caps,
		NewNetNS:     c.HostConfig.NetworkMode != NetworkHost,
		Cgroups:      cgroups,
		Mounts:       c.HostConfig.Binds,
		EtcFiles:     etcFiles,
		Init:         c.HostConfig.Init,
		NotifyBind:   c.bypassesPorts(),
	}, nil
}

// bypassesPorts reports whether c publishes TCP ports with
// port_handler=bypass, so that the monitor handles its bind(2) calls.
func (c *Container) bypassesPorts() bool {
	mode, err := netstack.ParseMode(c.HostConfig.NetworkMode)
	if err != nil || !mode.Bypass() {
		return false
	}
	for _, m := range c.Network.Ports {
		if m.Proto == "tcp" {
			return true
		}
	}
	return false
}
