package netstack

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Defaults of root bridge networking: the network of the Bocker article.
const (
	DefaultBridge = "gocker0"
	DefaultSubnet = "172.18.0.1/24"
)

// ErrNoFreeAddress means every address of a bridge's subnet is leased.
var ErrNoFreeAddress = errors.New("no free address")

// BridgeConfig is a bridge and its subnet, written as the bridge's own
// address with the prefix length ("172.18.0.1/24"): the first address
// is the gateway unless the value names another.
type BridgeConfig struct {
	Name string
	// Gateway is the bridge's address, with the subnet's prefix length.
	Gateway netip.Prefix
}

// ParseBridgeConfig validates a bridge name and its address.
func ParseBridgeConfig(name, subnet string) (BridgeConfig, error) {
	if err := validateLinkName(name); err != nil {
		return BridgeConfig{}, fmt.Errorf("invalid bridge name %q: %w", name, err)
	}
	p, err := netip.ParsePrefix(subnet)
	if err != nil || !p.Addr().Is4() {
		return BridgeConfig{}, fmt.Errorf("invalid bridge subnet %q: use the bridge's IPv4 address and prefix length, such as %s", subnet, DefaultSubnet)
	}
	if p.Bits() > 30 || p.Bits() < 8 {
		return BridgeConfig{}, fmt.Errorf("invalid bridge subnet %q: the prefix length must be from 8 to 30", subnet)
	}
	if p.Addr() == p.Masked().Addr() {
		// "172.18.0.0/24" names the network: its first host is the
		// gateway.
		p = netip.PrefixFrom(p.Addr().Next(), p.Bits())
	}
	if p.Addr() == broadcast(p) {
		return BridgeConfig{}, fmt.Errorf("invalid bridge subnet %q: the bridge cannot have the broadcast address", subnet)
	}
	return BridgeConfig{Name: name, Gateway: p}, nil
}

// validateLinkName applies the kernel's rules for interface names.
func validateLinkName(name string) error {
	switch {
	case name == "" || len(name) > 15:
		return errors.New("an interface name has 1 to 15 characters")
	case name == "." || name == "..":
		return errors.New(`an interface name cannot be "." or ".."`)
	case strings.ContainsAny(name, "/: \t\n"):
		return errors.New("an interface name cannot contain '/', ':' or white space")
	}
	return nil
}

// broadcast returns the last address of p's network.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// allocateAddress returns the lowest address of the bridge's subnet that
// is neither the network, the broadcast, the gateway nor in use.
func allocateAddress(cfg BridgeConfig, used map[netip.Addr]bool) (netip.Addr, error) {
	last := broadcast(cfg.Gateway)
	for a := cfg.Gateway.Masked().Addr().Next(); a.IsValid() && a != last; a = a.Next() {
		if a != cfg.Gateway.Addr() && !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w in %s on bridge %s: remove stopped containers or choose a larger subnet", ErrNoFreeAddress, cfg.Gateway.Masked(), cfg.Name)
}

// vethName returns the host-side interface name of a container's veth
// pair: "gk" and the first 12 digits of its id, within the kernel's 15
// characters.
func vethName(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return "gk" + id
}
