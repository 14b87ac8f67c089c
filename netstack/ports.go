package netstack

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// PortMapping is one published port: connections to HostIP:HostPort on
// the host reach ContainerPort in the container.
type PortMapping struct {
	// HostIP is the host address to listen on; the zero value means every
	// address, as Docker's 0.0.0.0 does.
	HostIP netip.Addr `json:"HostIp,omitzero"`
	// HostPort is 0 until a random free port is chosen for it.
	HostPort      uint16 `json:"HostPort"`
	ContainerPort uint16 `json:"ContainerPort"`
	// Proto is "tcp" or "udp".
	Proto string `json:"Proto"`
}

// Key returns the mapping's container side as Docker writes it, "80/tcp".
func (m PortMapping) Key() string {
	return strconv.Itoa(int(m.ContainerPort)) + "/" + m.Proto
}

// HostAddress returns the host side as "0.0.0.0:8080" or "[::1]:8080".
func (m PortMapping) HostAddress() string {
	ip := "0.0.0.0"
	if m.HostIP.IsValid() {
		ip = m.HostIP.String()
	}
	return netip.AddrPortFrom(netip.MustParseAddr(ip), m.HostPort).String()
}

// String formats the mapping as a --publish value that parses back to it,
// such as "[::1]:8080:80/udp" or ":80/tcp".
func (m PortMapping) String() string {
	var b strings.Builder
	if m.HostIP.Is6() {
		b.WriteString("[" + m.HostIP.String() + "]:")
	} else if m.HostIP.IsValid() {
		b.WriteString(m.HostIP.String() + ":")
	}
	if m.HostPort != 0 {
		b.WriteString(strconv.Itoa(int(m.HostPort)))
	}
	b.WriteString(":" + m.Key())
	return b.String()
}

// ListenAddress returns the address to bind: "" for the host means every
// IPv4 and IPv6 address.
func (m PortMapping) ListenAddress() string {
	ip := ""
	if m.HostIP.IsValid() {
		ip = m.HostIP.String()
	}
	return joinHostPort(ip, m.HostPort)
}

func joinHostPort(host string, port uint16) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(int(port))
}

// ParsePortSpec parses a --publish value in Docker's form
// [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]. An IPv6 address is written in
// brackets ("[::1]:8080:80"). A missing or empty HOSTPORT is returned as 0,
// for a random free port. Port ranges are not supported.
func ParsePortSpec(spec string) (PortMapping, error) {
	bad := func(format string, args ...any) (PortMapping, error) {
		return PortMapping{}, fmt.Errorf("invalid --publish %q: %s", spec, fmt.Sprintf(format, args...))
	}
	rest, proto, hasProto := strings.Cut(spec, "/")
	m := PortMapping{Proto: "tcp"}
	if hasProto {
		switch proto {
		case "tcp", "udp":
			m.Proto = proto
		default:
			return bad("unknown protocol %q: use tcp or udp", proto)
		}
	}
	ip, ports, err := splitHostIP(rest)
	if err != nil {
		return bad("%v", err)
	}
	if ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil || addr.Zone() != "" {
			return bad("%q is not an IP address", ip)
		}
		if !addr.IsUnspecified() {
			m.HostIP = addr.Unmap()
		}
	}
	parts := strings.Split(ports, ":")
	if len(parts) > 2 {
		return bad("use [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], with an IPv6 address in brackets")
	}
	if m.ContainerPort, err = parsePort(parts[len(parts)-1], false); err != nil {
		return bad("container port: %v", err)
	}
	if len(parts) == 2 {
		if m.HostPort, err = parsePort(parts[0], true); err != nil {
			return bad("host port: %v", err)
		}
	}
	return m, nil
}

// splitHostIP splits "IP:HOSTPORT:CONTAINERPORT" or "[IPv6]:..." into the
// address and the ports. Without an address, or with only
// HOSTPORT:CONTAINERPORT, the address is empty.
func splitHostIP(s string) (ip, ports string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 || len(s) == end+1 || s[end+1] != ':' {
			return "", "", fmt.Errorf("an address in brackets must be followed by :HOSTPORT:CONTAINERPORT")
		}
		return s[1:end], s[end+2:], nil
	}
	if strings.Count(s, ":") == 2 {
		ip, ports, _ = strings.Cut(s, ":")
		if ip == "" {
			return "", "", fmt.Errorf("empty IP address before the first colon")
		}
		return ip, ports, nil
	}
	return "", s, nil
}

// parsePort parses a port number from 1 to 65535; "" is 0 where empty is
// allowed.
func parsePort(s string, emptyOK bool) (uint16, error) {
	if s == "" && emptyOK {
		return 0, nil
	}
	if strings.Contains(s, "-") {
		return 0, fmt.Errorf("port ranges such as %q are not supported: publish each port with its own --publish", s)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 || s[0] == '+' || s[0] == '0' {
		return 0, fmt.Errorf("%q is not a port number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// ParsePortSpecs parses every --publish value and rejects two mappings of
// the same host port, address and protocol.
func ParsePortSpecs(specs []string) ([]PortMapping, error) {
	var out []PortMapping
	for _, s := range specs {
		m, err := ParsePortSpec(s)
		if err != nil {
			return nil, err
		}
		for _, prev := range out {
			if m.HostPort != 0 && prev.HostPort == m.HostPort && prev.Proto == m.Proto && overlaps(prev.HostIP, m.HostIP) {
				return nil, fmt.Errorf("invalid --publish %q: host port %d/%s is published twice", s, m.HostPort, m.Proto)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// overlaps reports whether two listen addresses collide: the zero address
// listens on every address.
func overlaps(a, b netip.Addr) bool {
	return !a.IsValid() || !b.IsValid() || a == b
}
