package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/netstack"
	"github.com/gocker/gocker/userns"
	"github.com/urfave/cli/v2"
)

// networkFlags are the global flags of bridge networking.
func networkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "bridge",
			Value:   netstack.DefaultBridge,
			Usage:   "bridge of --network bridge containers (root only); gocker creates it when missing",
			EnvVars: []string{"GOCKER_BRIDGE"},
		},
		&cli.StringFlag{
			Name:    "bridge-subnet",
			Value:   netstack.DefaultSubnet,
			Usage:   "address and prefix length of the bridge; containers get the other addresses of its subnet",
			EnvVars: []string{"GOCKER_BRIDGE_SUBNET"},
		},
	}
}

// runNetwork is the parsed network of "gocker run".
type runNetwork struct {
	mode   netstack.Mode
	config container.NetworkConfig
}

// parseRunNetwork parses and checks --network, --publish, --add-host,
// --dns and the bridge, before anything of the container exists.
func parseRunNetwork(c *cli.Context) (runNetwork, error) {
	rootless := userns.Rootless()
	var n runNetwork
	var err error
	if flagGiven(c, "network") {
		n.mode, err = netstack.ParseMode(c.String("network"))
	} else {
		n.mode, err = netstack.DefaultMode(rootless, netstack.UserModePreference, installed)
	}
	if err != nil {
		return n, err
	}
	if err := checkMode(n.mode, rootless); err != nil {
		return n, err
	}
	if n.config.Ports, err = netstack.ParsePortSpecs(c.StringSlice("publish")); err != nil {
		return n, err
	}
	if len(n.config.Ports) > 0 {
		if err := checkPublishMode(n.mode, n.config.Ports); err != nil {
			return n, err
		}
		if err := netstack.CheckPorts(n.config.Ports, !rootless); err != nil {
			return n, err
		}
	}
	if n.config.ExtraHosts, err = parseExtraHosts(c.StringSlice("add-host")); err != nil {
		return n, err
	}
	for _, h := range n.config.ExtraHosts {
		if strings.HasSuffix(h, ":"+netstack.HostGateway) && n.mode.Name == netstack.ModeNone {
			return n, fmt.Errorf("invalid --add-host %q with --network none: the container has no way to the host; use another network, or an IP address", h)
		}
	}
	if n.config.DNSSearch, err = parseResolvWords("dns-search", c.StringSlice("dns-search")); err != nil {
		return n, err
	}
	if n.config.DNSOptions, err = parseResolvWords("dns-option", c.StringSlice("dns-option")); err != nil {
		return n, err
	}
	for _, ip := range c.StringSlice("dns") {
		if _, err := netip.ParseAddr(ip); err != nil {
			return n, fmt.Errorf("invalid --dns %q: use an IP address", ip)
		}
		n.config.DNS = append(n.config.DNS, ip)
	}
	if n.mode.Name == netstack.ModeBridge {
		cfg, err := netstack.ParseBridgeConfig(c.String("bridge"), c.String("bridge-subnet"))
		if err != nil {
			return n, err
		}
		dir, err := netStateDir()
		if err != nil {
			return n, err
		}
		if err := netstack.CheckBridgeOwner(cfg, dir); err != nil {
			return n, err
		}
		n.config.Bridge, n.config.BridgeSubnet = cfg.Name, cfg.Gateway.String()
	}
	return n, nil
}

// checkPublishMode fails when mode cannot publish ports.
func checkPublishMode(mode netstack.Mode, ports []netstack.PortMapping) error {
	if !mode.Publishes() {
		return fmt.Errorf("invalid --publish with --network %s: a container publishes ports only with a network of its own (bridge, slirp4netns or pasta)", mode)
	}
	for _, m := range ports {
		if mode.Name == netstack.ModeBridge && m.HostIP.IsValid() && !m.HostIP.Is4() {
			return fmt.Errorf("invalid --publish %s: bridge networking publishes on IPv4 addresses only", m)
		}
	}
	return netstack.CheckBypassPorts(mode, ports)
}

// checkMode fails, with the fix, when the host cannot give the container
// the network of mode.
func checkMode(mode netstack.Mode, rootless bool) error {
	switch {
	case mode.Name == netstack.ModeBridge && rootless:
		return errors.New("invalid --network bridge: bridge networking needs root; rootless containers use slirp4netns or pasta (the default)")
	case mode.UserMode() && !installed(mode.Name):
		pkg := mode.Name
		if pkg == netstack.ModePasta {
			pkg = "passt"
		}
		return fmt.Errorf("--network %s: %s is not installed: install it (Debian and Ubuntu: sudo apt-get install %s), or run with --network none", mode.Name, mode.Name, pkg)
	case mode.UserMode() && rootless:
		f, err := os.OpenFile(netstack.TunDevice, os.O_RDWR, 0)
		if err != nil {
			return tunOpenError(mode.Name, err, netstack.HostAdminAccess())
		}
		f.Close()
	}
	return nil
}

// tunOpenError is the error of a user-mode network whose tun device the
// caller cannot open, with the fix that this host allows.
func tunOpenError(mode string, err error, admin netstack.AdminAccess) error {
	fix := strings.TrimPrefix(netstack.TunModeFix(admin)[0], "# ")
	return fmt.Errorf("--network %s needs %s, and opening it failed: %w: let users open it (%s, and \"gocker doctor\" shows how to keep the mode after a reboot), or run with --network none",
		mode, netstack.TunDevice, err, fix)
}

func installed(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// parseExtraHosts checks --add-host values, NAME:IP or NAME=IP, and
// returns them as NAME:IP. IP may be in brackets ("[fd00::5]") or
// netstack.HostGateway.
func parseExtraHosts(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		// Host names contain neither "=" nor ":", so the first of them
		// ends the name and an IPv6 address may follow ("db:fd00::5").
		name, ip, ok := strings.Cut(v, "=")
		if !ok {
			name, ip, ok = strings.Cut(v, ":")
		}
		if !ok || name == "" {
			return nil, fmt.Errorf("invalid --add-host %q: use NAME:IP or NAME=IP", v)
		}
		if strings.ContainsFunc(name, unicode.IsSpace) || strings.ContainsFunc(name, unicode.IsControl) {
			return nil, fmt.Errorf("invalid --add-host %q: the host name %q contains white space", v, name)
		}
		if ip == netstack.HostGateway {
			out = append(out, name+":"+ip)
			continue
		}
		if strings.HasPrefix(ip, "[") && strings.HasSuffix(ip, "]") {
			ip = ip[1 : len(ip)-1]
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("invalid --add-host %q: %q is neither an IP address nor %s", v, ip, netstack.HostGateway)
		}
		out = append(out, name+":"+addr.String())
	}
	return out, nil
}

// parseResolvWords checks the values of --dns-search or --dns-option,
// each of which becomes one word of a resolv.conf line.
func parseResolvWords(flag string, values []string) ([]string, error) {
	for _, v := range values {
		if v == "" || strings.ContainsFunc(v, unicode.IsSpace) || strings.ContainsFunc(v, unicode.IsControl) {
			return nil, fmt.Errorf("invalid --%s %q: use one word without white space, and the flag once per value", flag, v)
		}
	}
	return values, nil
}

// netStateDir returns the directory of network state that outlives no
// reboot, such as bridge leases: $GOCKER_RUNTIME_DIR when set, else
// /run/gocker for root and $XDG_RUNTIME_DIR/gocker for other users.
func netStateDir() (string, error) {
	dir, userTemp, err := runtimeStateDir(os.Getenv("GOCKER_RUNTIME_DIR"), os.Getenv("XDG_RUNTIME_DIR"), userns.Rootless(), os.Getuid())
	if err != nil || !userTemp {
		return dir, err
	}
	return userNetTempDir()
}

// runtimeStateDir resolves the directory of [netStateDir] from the values
// of $GOCKER_RUNTIME_DIR and $XDG_RUNTIME_DIR without creating anything.
// userTemp is true for /tmp/gocker-UID, the directory of users without
// $XDG_RUNTIME_DIR, which netStateDir creates and checks.
func runtimeStateDir(gockerDir, xdgDir string, rootless bool, uid int) (dir string, userTemp bool, err error) {
	if gockerDir != "" {
		if !filepath.IsAbs(gockerDir) {
			return "", false, fmt.Errorf("invalid $GOCKER_RUNTIME_DIR %q: use an absolute path", gockerDir)
		}
		return gockerDir, false, nil
	}
	if !rootless {
		return "/run/gocker", false, nil
	}
	if filepath.IsAbs(xdgDir) {
		return filepath.Join(xdgDir, "gocker"), false, nil
	}
	return filepath.Join(os.TempDir(), "gocker-"+strconv.Itoa(uid)), true, nil
}

// existingNetStateDir returns [netStateDir] without creating anything, or ""
// when a user without $XDG_RUNTIME_DIR has no runtime directory yet.
func existingNetStateDir() string {
	dir, userTemp, err := runtimeStateDir(os.Getenv("GOCKER_RUNTIME_DIR"), os.Getenv("XDG_RUNTIME_DIR"), userns.Rootless(), os.Getuid())
	if err != nil {
		return ""
	}
	if userTemp {
		if _, err := os.Stat(dir); err != nil {
			return ""
		}
	}
	dir, err = netStateDir()
	if err != nil {
		return ""
	}
	return dir
}

// userNetTempDir returns /tmp/gocker-UID, which must be the caller's own
// and private, for users without $XDG_RUNTIME_DIR.
func userNetTempDir() (string, error) {
	uid := os.Getuid()
	dir := filepath.Join(os.TempDir(), "gocker-"+strconv.Itoa(uid))
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("create runtime directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != uid || fi.Mode().Perm() != 0o700 {
		return "", fmt.Errorf("runtime directory %s is not a directory of mode 0700 owned by uid %d: set $XDG_RUNTIME_DIR", dir, uid)
	}
	return dir, nil
}

// networkHook returns the hook that gives container c its network once
// its init runs, and records the addresses and ports it got.
func networkHook(st *stores, log *slog.Logger) container.Hook {
	return func(ctx context.Context, c *container.Container, pid int) (func(context.Context) error, error) {
		mode, err := netstack.ParseMode(c.HostConfig.NetworkMode)
		if err != nil || !mode.Publishes() {
			return nil, err
		}
		dir, err := netStateDir()
		if err != nil {
			return nil, err
		}
		opts := netstack.AttachOptions{
			ID: c.ID, Pid: pid, Mode: mode, Rootless: c.Rootless, Ports: c.Network.Ports,
			StateDir: dir, MonitorLock: st.containers.MonitorLockPath(c), Log: log,
		}
		if mode.Bypass() {
			opts.Bypass = netstack.NewBypass(mode, log)
			c.ServeBindListener = opts.Bypass.Serve
		}
		if mode.Name == netstack.ModeBridge {
			if opts.Bridge, err = netstack.ParseBridgeConfig(c.Network.Bridge, c.Network.BridgeSubnet); err != nil {
				return nil, err
			}
		}
		settings, detach, err := netstack.Attach(ctx, opts)
		cleanup := func(ctx context.Context) error {
			c.NetworkSettings = nil
			c.ServeBindListener = nil
			return errors.Join(detach(ctx), st.containers.SaveNetworkSettings(c))
		}
		if err != nil {
			return cleanup, err
		}
		c.NetworkSettings = &settings
		return cleanup, st.containers.SaveNetworkSettings(c)
	}
}

// sweepNetworks cleans up the network state of containers whose monitor
// died. Failures are logged: they must not stop the command that runs.
func sweepNetworks(ctx context.Context) {
	dir := existingNetStateDir()
	if dir == "" {
		return
	}
	if err := netstack.SweepStale(ctx, dir, slog.Default()); err != nil {
		slog.Warn("clean up the networks of dead containers", "error", err)
	}
}
