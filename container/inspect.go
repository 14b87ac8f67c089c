package container

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocker/gocker/netstack"
	"github.com/gocker/gocker/overlay"
)

// Inspect is the Docker-shaped description of a container that gocker
// inspect prints: the fields of Docker's inspect output that gocker has,
// with Docker's names.
type Inspect struct {
	ID      string       `json:"Id"`
	Created time.Time    `json:"Created"`
	Path    string       `json:"Path"`
	Args    []string     `json:"Args"`
	State   InspectState `json:"State"`
	Image   string       `json:"Image"`
	// ResolvConfPath, HostnamePath and HostsPath stay empty, because the
	// init mounts these files from a tmpfs of the container's own.
	ResolvConfPath  string           `json:"ResolvConfPath"`
	HostnamePath    string           `json:"HostnamePath"`
	HostsPath       string           `json:"HostsPath"`
	LogPath         string           `json:"LogPath"`
	Name            string           `json:"Name"`
	RestartCount    int              `json:"RestartCount"`
	Driver          string           `json:"Driver"`
	Platform        string           `json:"Platform"`
	HostConfig      InspectHost      `json:"HostConfig"`
	GraphDriver     InspectDriver    `json:"GraphDriver"`
	Mounts          []InspectMount   `json:"Mounts"`
	Config          InspectConfig    `json:"Config"`
	NetworkSettings *NetworkSettings `json:"NetworkSettings"`
}

// InspectState is Docker's State object.
type InspectState struct {
	Status     string    `json:"Status"`
	Running    bool      `json:"Running"`
	Paused     bool      `json:"Paused"`
	Restarting bool      `json:"Restarting"`
	OOMKilled  bool      `json:"OOMKilled"`
	Dead       bool      `json:"Dead"`
	Pid        int       `json:"Pid"`
	ExitCode   int       `json:"ExitCode"`
	Error      string    `json:"Error"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	// MonitorPid is the host pid of the process that monitors the
	// running container, as Podman's ConmonPid; Docker has no such
	// field.
	MonitorPid int `json:"MonitorPid,omitempty"`
}

// InspectHost is Docker's HostConfig object, with Docker's field names
// and types.
type InspectHost struct {
	Binds          []string                 `json:"Binds"`
	LogConfig      LogConfig                `json:"LogConfig"`
	NetworkMode    string                   `json:"NetworkMode"`
	PortBindings   map[string][]PortBinding `json:"PortBindings"`
	RestartPolicy  RestartPolicy            `json:"RestartPolicy"`
	AutoRemove     bool                     `json:"AutoRemove"`
	CapAdd         []string                 `json:"CapAdd"`
	CapDrop        []string                 `json:"CapDrop"`
	Dns            []string                 `json:"Dns"`
	DnsOptions     []string                 `json:"DnsOptions"`
	DnsSearch      []string                 `json:"DnsSearch"`
	ExtraHosts     []string                 `json:"ExtraHosts"`
	Init           *bool                    `json:"Init"`
	ReadonlyRootfs bool                     `json:"ReadonlyRootfs"`
	// SecurityOpt is null without --security-opt, as in Docker.
	SecurityOpt []string `json:"SecurityOpt"`
	// Memory and MemorySwap are in bytes. MemorySwap is memory plus
	// swap, or -1 for unlimited swap.
	Memory     int64 `json:"Memory"`
	MemorySwap int64 `json:"MemorySwap"`
	// NanoCpus is the CPU limit in billionths of a CPU.
	NanoCpus   int64  `json:"NanoCpus"`
	CpuShares  int64  `json:"CpuShares"`
	CpusetCpus string `json:"CpusetCpus"`
	// PidsLimit is null without --pids-limit, as in Docker.
	PidsLimit *int64 `json:"PidsLimit"`
}

// InspectDriver is Docker's GraphDriver object.
type InspectDriver struct {
	Data map[string]string `json:"Data"`
	Name string            `json:"Name"`
}

// InspectMount is one entry of Docker's Mounts array.
type InspectMount struct {
	Type        string `json:"Type"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

// InspectConfig is Docker's Config object.
type InspectConfig struct {
	Hostname     string            `json:"Hostname"`
	Domainname   string            `json:"Domainname"`
	User         string            `json:"User"`
	AttachStdin  bool              `json:"AttachStdin"`
	AttachStdout bool              `json:"AttachStdout"`
	AttachStderr bool              `json:"AttachStderr"`
	Tty          bool              `json:"Tty"`
	OpenStdin    bool              `json:"OpenStdin"`
	StdinOnce    bool              `json:"StdinOnce"`
	Env          []string          `json:"Env"`
	Cmd          []string          `json:"Cmd"`
	Image        string            `json:"Image"`
	Volumes      map[string]any    `json:"Volumes"`
	WorkingDir   string            `json:"WorkingDir"`
	Entrypoint   []string          `json:"Entrypoint"`
	Labels       map[string]string `json:"Labels"`
	StopSignal   string            `json:"StopSignal,omitempty"`
	StopTimeout  *int              `json:"StopTimeout,omitempty"`
}

// NetworkSettings is Docker's NetworkSettings object. The addresses and
// published ports are those of the running container, so a stopped one has
// them empty, as in Docker.
type NetworkSettings struct {
	Bridge      string                     `json:"Bridge"`
	SandboxID   string                     `json:"SandboxID"`
	SandboxKey  string                     `json:"SandboxKey"`
	Ports       map[string][]PortBinding   `json:"Ports"`
	Gateway     string                     `json:"Gateway"`
	IPAddress   string                     `json:"IPAddress"`
	IPPrefixLen int                        `json:"IPPrefixLen"`
	MacAddress  string                     `json:"MacAddress"`
	Networks    map[string]EndpointSetting `json:"Networks"`
}

// PortBinding is a published port on the host.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// EndpointSetting is the container's address on one network.
type EndpointSetting struct {
	Gateway     string `json:"Gateway"`
	IPAddress   string `json:"IPAddress"`
	IPPrefixLen int    `json:"IPPrefixLen"`
	MacAddress  string `json:"MacAddress"`
}

// Inspect describes container c as Docker's inspect does.
func (s *Store) Inspect(c *Container, layersDir string) Inspect {
	dir := s.Dir(c.ID)
	cmd := c.Command()
	in := Inspect{
		ID:           c.ID,
		Created:      c.Created,
		Args:         []string{},
		Image:        c.ImageID,
		Name:         "/" + c.Name,
		RestartCount: c.State.RestartCount,
		Driver:       "overlay",
		Platform:     "linux",
		State:        inspectState(c.State),
		HostConfig:   inspectHost(c.HostConfig, c.Network),
		GraphDriver: InspectDriver{Name: "overlay", Data: map[string]string{
			"LowerDir":  lowerDirs(c, layersDir),
			"UpperDir":  filepath.Join(dir, "upper"),
			"WorkDir":   filepath.Join(dir, "work"),
			"MergedDir": filepath.Join(dir, "merged"),
		}},
		Mounts:          []InspectMount{},
		Config:          inspectConfig(c),
		NetworkSettings: inspectNetwork(c),
	}
	if len(cmd) > 0 {
		in.Path, in.Args = cmd[0], cmd[1:]
	}
	if c.HostConfig.LogConfig.Type != LogDriverNone {
		in.LogPath = filepath.Join(dir, logFileName)
	}
	for _, b := range c.HostConfig.Binds {
		mode := "rw"
		if b.ReadOnly {
			mode = "ro"
		}
		in.Mounts = append(in.Mounts, InspectMount{
			Type: "bind", Source: b.Source, Destination: b.Destination,
			Mode: mode, RW: !b.ReadOnly, Propagation: "rprivate",
		})
	}
	return in
}

// inspectNetwork describes the network of c, under the name of its mode
// in Networks: "bridge", "none" and "host" as Docker names them, and
// "slirp4netns" or "pasta" for user-mode networks.
func inspectNetwork(c *Container) *NetworkSettings {
	out := &NetworkSettings{Ports: map[string][]PortBinding{}, Networks: map[string]EndpointSetting{}}
	name := c.HostConfig.NetworkMode
	if mode, err := netstack.ParseMode(name); err == nil {
		name = mode.Name
	}
	var endpoint EndpointSetting
	if n := c.NetworkSettings; n != nil {
		endpoint = EndpointSetting{Gateway: n.Gateway, IPAddress: n.IPAddress, IPPrefixLen: n.IPPrefixLen, MacAddress: n.MacAddress}
		out.Gateway, out.IPAddress, out.IPPrefixLen, out.MacAddress = n.Gateway, n.IPAddress, n.IPPrefixLen, n.MacAddress
		for port, bindings := range n.Ports {
			for _, b := range bindings {
				out.Ports[port] = append(out.Ports[port], PortBinding{HostIP: b.HostIP, HostPort: b.HostPort})
			}
		}
	}
	if name != "" {
		out.Networks[name] = endpoint
	}
	return out
}

func inspectState(st State) InspectState {
	out := InspectState{
		Status:     st.Status,
		Running:    st.Status == StatusRunning,
		Restarting: st.Status == StatusRestarting,
		OOMKilled:  st.OOMKilled,
		Pid:        st.Pid,
		ExitCode:   st.ExitCode,
		Error:      st.Error,
		StartedAt:  st.StartedAt,
		FinishedAt: st.FinishedAt,
	}
	if st.Status == StatusRunning || st.Status == StatusRestarting {
		out.MonitorPid = st.MonitorPid
	}
	return out
}

// inspectHost describes the host configuration h and the requested
// network n as Docker's HostConfig.
func inspectHost(h HostConfig, n NetworkConfig) InspectHost {
	out := InspectHost{
		LogConfig:      h.LogConfig,
		NetworkMode:    h.NetworkMode,
		PortBindings:   portBindings(n.Ports),
		RestartPolicy:  h.RestartPolicy,
		AutoRemove:     h.AutoRemove,
		CapAdd:         h.CapAdd,
		CapDrop:        h.CapDrop,
		Dns:            n.DNS,
		DnsOptions:     n.DNSOptions,
		DnsSearch:      n.DNSSearch,
		ExtraHosts:     n.ExtraHosts,
		ReadonlyRootfs: h.ReadOnly,
		SecurityOpt:    h.SecurityOpt,
		Memory:         h.Memory,
		MemorySwap:     h.MemorySwap,
		NanoCpus:       h.NanoCPUs,
		CpuShares:      h.CPUShares,
		CpusetCpus:     h.CpusetCpus,
	}
	// Without --memory-swap, a memory limit allows as much swap as
	// memory, which Docker records as twice the memory limit.
	if h.MemorySwap == 0 && h.Memory > 0 {
		out.MemorySwap = 2 * h.Memory
	}
	if h.PidsLimit != 0 {
		limit := h.PidsLimit
		out.PidsLimit = &limit
	}
	if out.Dns == nil {
		out.Dns = []string{}
	}
	if out.DnsOptions == nil {
		out.DnsOptions = []string{}
	}
	if out.DnsSearch == nil {
		out.DnsSearch = []string{}
	}
	if out.LogConfig.Type == "" {
		out.LogConfig.Type = LogDriverJSONFile
	}
	if out.LogConfig.Config == nil {
		out.LogConfig.Config = map[string]string{}
	}
	if out.RestartPolicy.Name == "" {
		out.RestartPolicy.Name = RestartNo
	}
	if h.Init {
		out.Init = &h.Init
	}
	for _, b := range h.Binds {
		bind := b.Source + ":" + b.Destination
		if b.ReadOnly {
			bind += ":ro"
		}
		out.Binds = append(out.Binds, bind)
	}
	return out
}

// portBindings returns the requested published ports as Docker's
// HostConfig.PortBindings, keyed by "80/tcp". A host address or port that
// was left out is empty, as in Docker, and NetworkSettings.Ports shows the
// chosen ones.
func portBindings(ports []netstack.PortMapping) map[string][]PortBinding {
	out := map[string][]PortBinding{}
	for _, p := range ports {
		var b PortBinding
		if p.HostIP.IsValid() {
			b.HostIP = p.HostIP.String()
		}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(int(p.HostPort))
		}
		out[p.Key()] = append(out[p.Key()], b)
	}
	return out
}

func inspectConfig(c *Container) InspectConfig {
	labels := c.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return InspectConfig{
		Hostname:     c.Config.Hostname,
		User:         c.Config.User,
		AttachStdin:  c.Config.OpenStdin,
		AttachStdout: true,
		AttachStderr: true,
		Tty:          c.Config.Tty,
		OpenStdin:    c.Config.OpenStdin,
		Env:          c.Config.Env,
		Cmd:          c.Config.Cmd,
		Image:        c.Image,
		WorkingDir:   c.Config.WorkingDir,
		Entrypoint:   c.Config.Entrypoint,
		Labels:       labels,
		StopSignal:   c.Config.StopSignal,
		StopTimeout:  c.Config.StopTimeout,
	}
}

// lowerDirs lists the image's layer directories, topmost first, as
// overlay's lowerdir option does.
func lowerDirs(c *Container, layersDir string) string {
	dirs := make([]string, 0, len(c.Layers)+1)
	for i := len(c.Layers) - 1; i >= 0; i-- {
		key := strings.TrimPrefix(c.Layers[i], "sha256:")
		dirs = append(dirs, filepath.Join(layersDir, key, "diff"))
	}
	// The store's root contains the layer store and the mount point
	// layer that every start puts below the image's layers.
	dirs = append(dirs, overlay.MountPointLayerPath(filepath.Dir(layersDir), netstack.EtcPaths))
	return strings.Join(dirs, ":")
}
