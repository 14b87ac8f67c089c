package netstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// containerIfname is the container's side of its veth pair.
const containerIfname = "eth0"

// bridgeAttachment is a container's place on a bridge.
type bridgeAttachment struct {
	cfg      BridgeConfig
	stateDir string
	id       string
	// reserved are host sockets bound (not listening) on each published
	// port, so that no other program takes a port whose connections the
	// DNAT rules send to the container.
	reserved []io.Closer
}

// attachBridge connects the network namespace of pid to the bridge: it
// creates the bridge and its firewall table with the first lease, leases
// an address, creates the veth pair, and adds a DNAT rule per published
// port. Everything is recorded in the lease file before it is created.
func attachBridge(ctx context.Context, opts AttachOptions) (*bridgeAttachment, Settings, error) {
	a := &bridgeAttachment{cfg: opts.Bridge, stateDir: filepath.Join(opts.StateDir, "network"), id: opts.ID}
	leases, err := openLeases(ctx, a.stateDir, opts.Bridge.Name)
	if err != nil {
		return nil, Settings{}, err
	}
	defer leases.close()
	sweepLeases(leases, opts.Log)
	if err := ensureBridge(leases, opts.Bridge, opts.Log); err != nil {
		return a, Settings{}, err
	}
	addr, err := allocateAddress(opts.Bridge, leases.used())
	if err != nil {
		return a, Settings{}, err
	}
	l := &lease{Address: addr.String(), Veth: vethName(opts.ID), MonitorLock: opts.MonitorLock}
	leases.state.Leases[opts.ID] = l
	if err := leases.save(); err != nil {
		return a, Settings{}, err
	}

	s := Settings{
		IPAddress: addr.String(), IPPrefixLen: opts.Bridge.Gateway.Bits(),
		Gateway: opts.Bridge.Gateway.Addr().String(), Bridge: opts.Bridge.Name,
	}
	if s.MacAddress, err = createVeth(opts.Pid, l.Veth, opts.Bridge, netip.PrefixFrom(addr, opts.Bridge.Gateway.Bits())); err != nil {
		return a, s, err
	}

	ports, err := a.reservePorts(opts.Ports)
	if err != nil {
		return a, s, err
	}
	l.Ports = ports
	if err := leases.save(); err != nil {
		return a, s, err
	}
	if err := addPortRules(opts.Bridge.Name, opts.ID, addr, ports); err != nil {
		return a, s, err
	}
	s.SetPorts(ports)
	return a, s, nil
}

// reservePorts binds each published host port, choosing free ones for
// mappings without a host port.
func (a *bridgeAttachment) reservePorts(ports []PortMapping) ([]PortMapping, error) {
	out := make([]PortMapping, 0, len(ports))
	for _, m := range ports {
		if m.HostIP.IsValid() && !m.HostIP.Is4() {
			return nil, fmt.Errorf("publish %s: bridge networking publishes IPv4 addresses only", m)
		}
		r, err := reservePort(m)
		if err != nil {
			return nil, PortError(m, err, -1)
		}
		a.reserved = append(a.reserved, r)
		if m.HostPort == 0 {
			m.HostPort = uint16(r.port)
		}
		out = append(out, m)
	}
	return out, nil
}

// detach undoes attachBridge: rules, veth, lease, and with the last lease
// the bridge's table and the bridge if gocker created it.
func (a *bridgeAttachment) detach(ctx context.Context, log *slog.Logger) error {
	if a == nil {
		return nil
	}
	var errs []error
	for _, r := range a.reserved {
		errs = append(errs, r.Close())
	}
	leases, err := openLeases(ctx, a.stateDir, a.cfg.Name)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer leases.close()
	errs = append(errs, releaseLease(leases, a.id))
	errs = append(errs, teardownIfUnused(leases))
	errs = append(errs, leases.save())
	if err := errors.Join(errs...); err != nil {
		log.Warn("clean up bridge network", "container", a.id, "error", err)
		return err
	}
	return nil
}

// releaseLease deletes what the lease of container id recorded. Things
// already gone (a veth whose namespace died with the container) are no
// error.
func releaseLease(leases *leaseFile, id string) error {
	l, ok := leases.state.Leases[id]
	if !ok {
		return nil
	}
	var errs []error
	errs = append(errs, deletePortRules(leases.state.Bridge, id))
	if link, err := netlink.LinkByName(l.Veth); err == nil {
		if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("delete veth %s: %w", l.Veth, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	delete(leases.state.Leases, id)
	return nil
}

// sweepLeases releases the leases of containers whose monitor died.
func sweepLeases(leases *leaseFile, log *slog.Logger) {
	for _, id := range leases.stale() {
		if err := releaseLease(leases, id); err != nil {
			log.Warn("clean up the network of a dead container", "container", id, "error", err)
			continue
		}
		log.Info("cleaned up the network of a dead container", "container", id, "bridge", leases.state.Bridge)
	}
}

// teardownIfUnused deletes the bridge's table, and the bridge when gocker
// created it, once no lease remains, and turns IPv4 forwarding off again
// when gocker turned it on (see restoreForwarding).
func teardownIfUnused(leases *leaseFile) error {
	if len(leases.state.Leases) > 0 || leases.state.Gateway == "" {
		return nil
	}
	if err := deleteNATTable(leases.state.Bridge); err != nil {
		return err
	}
	if leases.state.CreatedBridge {
		if link, err := netlink.LinkByName(leases.state.Bridge); err == nil {
			if err := netlink.LinkDel(link); err != nil {
				return fmt.Errorf("delete bridge %s: %w", leases.state.Bridge, err)
			}
		}
	}
	if err := restoreForwarding(leases); err != nil {
		return err
	}
	leases.state.Gateway = ""
	leases.state.CreatedBridge = false
	return nil
}

// ensureBridge sets up the bridge, its address, forwarding and the
// firewall table when the lease file records no setup yet.
func ensureBridge(leases *leaseFile, cfg BridgeConfig, log *slog.Logger) error {
	st := &leases.state
	if err := checkBridgeOwner(cfg, leases.path); err != nil {
		return err
	}
	if st.Gateway != "" {
		if st.Gateway != cfg.Gateway.String() {
			return fmt.Errorf("bridge %s runs containers with the address %s, not %s: use --bridge-subnet %s, or another --bridge", cfg.Name, st.Gateway, cfg.Gateway, st.Gateway)
		}
		return nil
	}
	st.Gateway = cfg.Gateway.String()
	link, err := netlink.LinkByName(cfg.Name)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		log.Debug("create bridge", "bridge", cfg.Name, "address", cfg.Gateway)
		st.CreatedBridge = true
		if err := leases.save(); err != nil {
			return err
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: cfg.Name}}
		if err := netlink.LinkAdd(br); err != nil {
			return fmt.Errorf("create bridge %s: %w", cfg.Name, err)
		}
		// The kernel ignores an alias in the request that creates a link,
		// so the alias is set right after.
		// NOTE: a gocker of another runtime directory that finds the
		// bridge between the two calls takes it for an administrator's.
		if err := netlink.LinkSetAlias(br, ownerAlias(leases.path)); err != nil {
			return fmt.Errorf("set the alias of bridge %s: %w", cfg.Name, err)
		}
		link = br
	case err != nil:
		return fmt.Errorf("find bridge %s: %w", cfg.Name, err)
	case link.Type() != "bridge":
		st.Gateway = ""
		return fmt.Errorf("%s is a %s interface, not a bridge: choose another --bridge", cfg.Name, link.Type())
	default:
		// A bridge with this lease file's alias is one that gocker created
		// and a crash left behind, so it goes with the last lease again.
		st.CreatedBridge = link.Attrs().Alias == ownerAlias(leases.path)
		if err := leases.save(); err != nil {
			return err
		}
	}
	if err := configureBridge(link, cfg); err != nil {
		return err
	}
	if err := enableForwarding(leases); err != nil {
		return err
	}
	return createNATTable(cfg)
}

func configureBridge(link netlink.Link, cfg BridgeConfig) error {
	addr := &netlink.Addr{IPNet: prefixToIPNet(cfg.Gateway)}
	if err := netlink.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s to bridge %s: %w", cfg.Gateway, cfg.Name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring up bridge %s: %w", cfg.Name, err)
	}
	// Loopback-sourced packets of published ports leave through the
	// bridge (see nat_linux.go).
	path := "/proc/sys/net/ipv4/conf/" + cfg.Name + "/route_localnet"
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("enable %s: %w", path, err)
	}
	return nil
}

// createVeth creates the veth pair with its container side, eth0, in the
// network namespace of pid, attaches the host side to the bridge and
// configures eth0 through a netlink handle in that namespace. It returns
// eth0's MAC address.
func createVeth(pid int, hostName string, cfg BridgeConfig, addr netip.Prefix) (string, error) {
	ns, err := netns.GetFromPath("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return "", fmt.Errorf("open network namespace of pid %d: %w", pid, err)
	}
	defer ns.Close()
	bridge, err := netlink.LinkByName(cfg.Name)
	if err != nil {
		return "", fmt.Errorf("find bridge %s: %w", cfg.Name, err)
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: hostName, MasterIndex: bridge.Attrs().Index},
		PeerName:      containerIfname,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return "", fmt.Errorf("create veth pair %s: %w", hostName, err)
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		return "", fmt.Errorf("bring up veth %s: %w", hostName, err)
	}

	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return "", fmt.Errorf("netlink in the network namespace of pid %d: %w", pid, err)
	}
	defer h.Close()
	eth, err := h.LinkByName(containerIfname)
	if err != nil {
		return "", fmt.Errorf("find %s in the container: %w", containerIfname, err)
	}
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: prefixToIPNet(addr)}); err != nil {
		return "", fmt.Errorf("add address %s to the container's %s: %w", addr, containerIfname, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return "", fmt.Errorf("bring up the container's %s: %w", containerIfname, err)
	}
	route := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: cfg.Gateway.Addr().AsSlice()}
	if err := h.RouteAdd(route); err != nil {
		return "", fmt.Errorf("add the container's default route via %s: %w", cfg.Gateway.Addr(), err)
	}
	return eth.Attrs().HardwareAddr.String(), nil
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

// reservation is a bound, not listening, socket on a published port.
type reservation struct {
	fd   int
	port int
}

func (r *reservation) Close() error { return unix.Close(r.fd) }

// reservePort binds the host side of m without SO_REUSEADDR and without
// listening: other programs then fail to bind the port, while connections
// to it are sent to the container by DNAT before they could reach the
// socket.
func reservePort(m PortMapping) (*reservation, error) {
	typ := unix.SOCK_STREAM
	if m.Proto == "udp" {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	sa := &unix.SockaddrInet4{Port: int(m.HostPort)}
	if m.HostIP.IsValid() {
		sa.Addr = m.HostIP.As4()
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	return &reservation{fd: fd, port: bound.(*unix.SockaddrInet4).Port}, nil
}
