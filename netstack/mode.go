package netstack

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Network modes of "gocker run --network".
const (
	ModeNone        = "none"
	ModeHost        = "host"
	ModeBridge      = "bridge"
	ModeSlirp4netns = "slirp4netns"
	ModePasta       = "pasta"
)

// ErrNoUserModeTool means neither slirp4netns nor pasta is installed.
var ErrNoUserModeTool = errors.New("rootless networking needs slirp4netns or pasta, and neither is installed")

// Mode is a parsed --network value.
type Mode struct {
	// Name is one of the Mode* constants.
	Name string
	// AllowHostLoopback lets the container reach the host's loopback
	// through the user-mode network's gateway address (10.0.2.2 with
	// slirp4netns). It is off by default, as in Podman, because services
	// that listen on 127.0.0.1 expect only local clients.
	AllowHostLoopback bool
	// PortHandler is the path of published TCP ports into the container:
	// empty (or PortHandlerRootlesskit) for rootlesskit's port driver, or
	// PortHandlerBypass for host sockets put in place of the container's
	// server sockets (see bypass_linux.go).
	PortHandler string
}

// Port handlers of slirp4netns and pasta.
const (
	PortHandlerRootlesskit = "rootlesskit"
	PortHandlerBypass      = "bypass"
)

// String returns the mode as "gocker run --network" takes it.
func (m Mode) String() string {
	var opts []string
	if m.AllowHostLoopback {
		opts = append(opts, "allow_host_loopback=true")
	}
	if m.PortHandler == PortHandlerBypass {
		opts = append(opts, "port_handler="+PortHandlerBypass)
	}
	if len(opts) == 0 {
		return m.Name
	}
	return m.Name + ":" + strings.Join(opts, ",")
}

// Bypass reports whether published TCP ports bypass the port driver.
func (m Mode) Bypass() bool { return m.PortHandler == PortHandlerBypass }

// UserMode reports whether the mode runs slirp4netns or pasta.
func (m Mode) UserMode() bool { return m.Name == ModeSlirp4netns || m.Name == ModePasta }

// OwnNamespace reports whether the container gets a network namespace of
// its own.
func (m Mode) OwnNamespace() bool { return m.Name != ModeHost }

// Publishes reports whether the mode can publish ports.
func (m Mode) Publishes() bool { return m.UserMode() || m.Name == ModeBridge }

// ParseMode parses a --network value: none, host, bridge, slirp4netns or
// pasta, the last two with the options allow_host_loopback=true|false and
// port_handler=rootlesskit|bypass after a colon, separated by commas. An
// empty value is the default for the caller, see [DefaultMode].
func ParseMode(s string) (Mode, error) {
	name, opts, _ := strings.Cut(s, ":")
	m := Mode{Name: name}
	switch name {
	case ModeNone, ModeHost, ModeBridge, ModeSlirp4netns, ModePasta:
	default:
		return Mode{}, fmt.Errorf("invalid --network %q: use none, host, bridge (root), slirp4netns or pasta", s)
	}
	if opts == "" {
		if strings.HasSuffix(s, ":") {
			return Mode{}, fmt.Errorf("invalid --network %q: empty option list", s)
		}
		return m, nil
	}
	if !m.UserMode() {
		return Mode{}, fmt.Errorf("invalid --network %q: only slirp4netns and pasta take options", s)
	}
	for opt := range strings.SplitSeq(opts, ",") {
		switch opt {
		case "allow_host_loopback=true":
			m.AllowHostLoopback = true
		case "allow_host_loopback=false":
			m.AllowHostLoopback = false
		case "port_handler=" + PortHandlerRootlesskit:
			m.PortHandler = ""
		case "port_handler=" + PortHandlerBypass:
			m.PortHandler = PortHandlerBypass
		default:
			return Mode{}, fmt.Errorf("invalid --network %q: unknown option %q: use allow_host_loopback=true|false or port_handler=rootlesskit|bypass", s, opt)
		}
	}
	return m, nil
}

// DefaultMode returns the network mode of a container started without
// --network: bridge for root, and for everyone else the first installed
// tool of preferred (the faster one first). installed reports whether a
// tool is on $PATH.
func DefaultMode(rootless bool, preferred []string, installed func(string) bool) (Mode, error) {
	if !rootless {
		return Mode{Name: ModeBridge}, nil
	}
	for _, name := range preferred {
		if installed(name) {
			return Mode{Name: name}, nil
		}
	}
	return Mode{}, fmt.Errorf("%w: install one (Debian and Ubuntu: sudo apt-get install passt slirp4netns), or run with --network none or --network host", ErrNoUserModeTool)
}

// UserModePreference lists the user-mode networking tools, the default
// first: see docs/benchmarks.md for the measurements behind the order.
var UserModePreference = []string{ModeSlirp4netns, ModePasta}

// Settings are a running container's network addresses and published
// ports, in the shape of Docker's NetworkSettings in "docker inspect".
type Settings struct {
	// Mode is the --network value the container runs with.
	Mode string `json:"Mode,omitempty"`
	// IPAddress is the container's IPv4 address, empty without a network
	// of its own.
	IPAddress   string `json:"IPAddress"`
	IPPrefixLen int    `json:"IPPrefixLen"`
	Gateway     string `json:"Gateway"`
	MacAddress  string `json:"MacAddress,omitempty"`
	// Bridge is the host bridge of a bridge-mode container.
	Bridge string `json:"Bridge,omitempty"`
	// Ports maps "80/tcp" to the host addresses published for it.
	Ports map[string][]PortBinding `json:"Ports"`
	// Nameservers are the DNS servers written to the container's
	// /etc/resolv.conf in place of the host's.
	Nameservers []string `json:"Nameservers,omitempty"`
}

// PortBinding is one host address of a published port, as Docker
// formats it.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// SetPorts fills Ports from the published ports, whose host ports are
// chosen.
func (s *Settings) SetPorts(mappings []PortMapping) {
	s.Ports = map[string][]PortBinding{}
	for _, m := range mappings {
		addr := netip.MustParseAddrPort(m.HostAddress())
		s.Ports[m.Key()] = append(s.Ports[m.Key()], PortBinding{HostIP: addr.Addr().String(), HostPort: fmt.Sprint(addr.Port())})
	}
}
