package netstack

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// The bridge's firewall is one nftables table of its own, "ip
// gocker_BRIDGE", in the network namespace gocker runs in:
//
//	table ip gocker_gocker0 {
//	  chain prerouting { type nat hook prerouting priority dstnat;
//	    fib daddr type local jump ports }
//	  chain output { type nat hook output priority dstnat;
//	    fib daddr type local jump ports }
//	  chain ports {   # one rule per published port, tagged "gocker:ID"
//	    [ip daddr HOSTIP] tcp dport 8080 dnat to 172.18.0.2:80 comment "gocker:ID" }
//	  chain postrouting { type nat hook postrouting priority srcnat;
//	    ip saddr 172.18.0.0/24 oifname != "gocker0" masquerade
//	    ip saddr 127.0.0.0/8 oifname "gocker0" masquerade
//	    ip saddr 172.18.0.0/24 oifname "gocker0" ct status dnat masquerade }
//	  chain forward { type filter hook forward priority filter;
//	    oifname "gocker0" iifname != "gocker0" ct state established,related accept
//	    oifname "gocker0" iifname != "gocker0" ct status dnat accept
//	    oifname "gocker0" iifname != "gocker0" drop }
//	}
//
// The table is created with the first lease and deleted with the last, so
// nothing remains of it while no container runs on the bridge. Published
// ports are DNAT rules for every local address, including 127.0.0.1: the
// bridge gets route_localnet so that loopback-sourced packets may leave
// through it, and the second masquerade rule gives them the bridge's
// address, which the container can answer. The third gives the same
// treatment to a container that connects to a published port of the host
// (hairpin NAT): without it, the container that serves the port would
// answer the client container directly, from an address the client did
// not connect to.
//
// The forward chain lets other networks reach containers only through
// published ports, as Docker 28 and later do: a host that routes the
// bridge's subnet to this namespace reaches no other container port.
// Packets between containers enter and leave through the bridge, so the
// chain passes them, and it lets in the replies of containers' outbound
// connections.
//
// NOTE: a DROP policy or rule in another table's forward chain (Docker
// sets the iptables FORWARD policy to DROP) still drops the bridge's
// routed traffic, because nftables runs every base chain of a hook and a
// drop in any of them is final.

// ctStatusDstNAT is IPS_DST_NAT of the conntrack status bits
// (linux/netfilter/nf_conntrack_common.h): the connection's destination
// was rewritten by DNAT.
const ctStatusDstNAT = 1 << 5

// natTable returns the nftables table of a bridge.
func natTable(bridge string) *nftables.Table {
	return &nftables.Table{Name: "gocker_" + bridge, Family: nftables.TableFamilyIPv4}
}

// portRuleTag is the comment that marks a container's rules.
func portRuleTag(id string) string { return "gocker:" + id }

// createNATTable replaces the bridge's table with a fresh one holding the
// base chains and the masquerade rules.
func createNATTable(cfg BridgeConfig) error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := natTable(cfg.Name)
	// Deleting a table that does not exist fails the whole batch, so the
	// old table is looked up first.
	if _, err := conn.ListTableOfFamily(t.Name, t.Family); err == nil {
		conn.DelTable(t)
	}
	conn.AddTable(t)
	ports := conn.AddChain(&nftables.Chain{Name: "ports", Table: t})
	for _, hook := range []struct {
		name string
		hook *nftables.ChainHook
	}{{"prerouting", nftables.ChainHookPrerouting}, {"output", nftables.ChainHookOutput}} {
		c := conn.AddChain(&nftables.Chain{
			Name: hook.name, Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: hook.hook, Priority: nftables.ChainPriorityNATDest,
		})
		conn.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: []expr.Any{
			&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
			&expr.Verdict{Kind: expr.VerdictJump, Chain: ports.Name},
		}})
	}
	post := conn.AddChain(&nftables.Chain{
		Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
	})
	subnet := cfg.Gateway.Masked()
	conn.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: append(matchSource(subnet),
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(cfg.Name)},
		&expr.Masq{},
	)})
	conn.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: append(matchSource(netip.MustParsePrefix("127.0.0.0/8")),
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(cfg.Name)},
		&expr.Masq{},
	)})
	conn.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: append(matchSource(subnet),
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(cfg.Name)},
		&expr.Ct{Key: expr.CtKeySTATUS, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ctStatusDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		&expr.Masq{},
	)})
	addForwardChain(conn, t, cfg.Name)
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("create nftables table %s: %w", t.Name, err)
	}
	return nil
}

// addForwardChain adds the filter chain that drops forwarded packets to
// the bridge except replies and connections to published ports.
func addForwardChain(conn *nftables.Conn, t *nftables.Table, bridge string) {
	forward := conn.AddChain(&nftables.Chain{
		Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter,
	})
	intoBridge := func(exprs ...expr.Any) []expr.Any {
		return append([]expr.Any{
			&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(bridge)},
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(bridge)},
		}, exprs...)
	}
	conn.AddRule(&nftables.Rule{Table: t, Chain: forward, Exprs: intoBridge(
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		&expr.Verdict{Kind: expr.VerdictAccept},
	)})
	conn.AddRule(&nftables.Rule{Table: t, Chain: forward, Exprs: intoBridge(
		&expr.Ct{Key: expr.CtKeySTATUS, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ctStatusDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
		&expr.Verdict{Kind: expr.VerdictAccept},
	)})
	conn.AddRule(&nftables.Rule{Table: t, Chain: forward, Exprs: intoBridge(
		&expr.Verdict{Kind: expr.VerdictDrop},
	)})
}

// deleteNATTable deletes the bridge's table when it exists.
func deleteNATTable(bridge string) error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := natTable(bridge)
	if _, err := conn.ListTableOfFamily(t.Name, t.Family); err != nil {
		return nil
	}
	conn.DelTable(t)
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("delete nftables table %s: %w", t.Name, err)
	}
	return nil
}

// addPortRules adds a DNAT rule per published port of container id.
func addPortRules(bridge, id string, container netip.Addr, ports []PortMapping) error {
	if len(ports) == 0 {
		return nil
	}
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := natTable(bridge)
	chain := &nftables.Chain{Name: "ports", Table: t}
	for _, m := range ports {
		var exprs []expr.Any
		if m.HostIP.IsValid() {
			if !m.HostIP.Is4() {
				return fmt.Errorf("publish %s: bridge networking publishes IPv4 addresses only", m)
			}
			exprs = append(exprs,
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: m.HostIP.AsSlice()},
			)
		}
		proto := byte(unix.IPPROTO_TCP)
		if m.Proto == "udp" {
			proto = unix.IPPROTO_UDP
		}
		exprs = append(exprs,
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(m.HostPort)},
			&expr.Immediate{Register: 1, Data: container.AsSlice()},
			&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(m.ContainerPort)},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
		)
		conn.AddRule(&nftables.Rule{
			Table: t, Chain: chain, Exprs: exprs,
			UserData: userdata.AppendString(nil, userdata.TypeComment, portRuleTag(id)),
		})
	}
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("add port rules to nftables table %s: %w", t.Name, err)
	}
	return nil
}

// deletePortRules deletes every rule tagged with container id; a missing
// table has none.
func deletePortRules(bridge, id string) error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	t := natTable(bridge)
	if _, err := conn.ListTableOfFamily(t.Name, t.Family); err != nil {
		return nil
	}
	rules, err := conn.GetRules(t, &nftables.Chain{Name: "ports", Table: t})
	if err != nil {
		return fmt.Errorf("list nftables rules of %s: %w", t.Name, err)
	}
	var errs []error
	n := 0
	for _, r := range rules {
		if tag, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && tag == portRuleTag(id) {
			errs = append(errs, conn.DelRule(r))
			n++
		}
	}
	if n == 0 {
		return errors.Join(errs...)
	}
	if err := conn.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("delete port rules of container %.12s: %w", id, err))
	}
	return errors.Join(errs...)
}

// matchSource matches IPv4 packets whose source is in p.
func matchSource(p netip.Prefix) []expr.Any {
	mask := make([]byte, 4)
	for i := 0; i < p.Bits(); i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

// ifname pads an interface name as the kernel compares it: IFNAMSIZ bytes.
func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}
