package netstack

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

// ipForward is the sysctl net.ipv4.ip_forward of the network namespace
// gocker runs in. Containers reach other networks through the host,
// which must route their packets.
const ipForward = "/proc/sys/net/ipv4/ip_forward"

// enableForwarding sets net.ipv4.ip_forward to 1. When it was 0, the
// lease file records that first, so that the last container of the
// bridge sets it back.
func enableForwarding(leases *leaseFile) error {
	old, err := os.ReadFile(ipForward)
	if err != nil {
		return fmt.Errorf("read %s: %w", ipForward, err)
	}
	if strings.TrimSpace(string(old)) != "0" {
		return nil
	}
	leases.state.EnabledForwarding = true
	if err := leases.save(); err != nil {
		return err
	}
	if err := os.WriteFile(ipForward, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("enable %s: %w", ipForward, err)
	}
	return nil
}

// restoreForwarding sets net.ipv4.ip_forward back to 0 when gocker set it
// to 1 for this bridge and no other gocker bridge remains in the network
// namespace. It runs after the bridge's own table and bridge are gone.
//
// NOTE: when another gocker bridge remains, forwarding stays on, and that
// bridge's lease file does not record that gocker turned it on, so it
// stays on after that bridge goes too.
func restoreForwarding(leases *leaseFile) error {
	if !leases.state.EnabledForwarding {
		return nil
	}
	others, err := otherGockerBridges(leases.state.Bridge)
	if err != nil {
		return err
	}
	if len(others) == 0 {
		if err := os.WriteFile(ipForward, []byte("0\n"), 0o644); err != nil {
			return fmt.Errorf("restore %s to 0: %w", ipForward, err)
		}
	}
	leases.state.EnabledForwarding = false
	return nil
}

// otherGockerBridges returns the bridges other than bridge that gocker
// uses in the network namespace: those with gocker's alias, and those
// with a gocker nftables table, which includes bridges an administrator
// created.
func otherGockerBridges(bridge string) ([]string, error) {
	seen := map[string]bool{}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	for _, l := range links {
		if l.Type() == "bridge" && strings.HasPrefix(l.Attrs().Alias, ownerAliasPrefix) {
			seen[l.Attrs().Name] = true
		}
	}
	conn, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range tables {
		if name, ok := strings.CutPrefix(t.Name, natTable("").Name); ok {
			seen[name] = true
		}
	}
	delete(seen, bridge)
	var names []string
	for name := range seen {
		names = append(names, name)
	}
	return names, nil
}
