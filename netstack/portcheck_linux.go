package netstack

import (
	"github.com/gocker/gocker/hostcheck"
)

// portFree reports whether the host side of m can be bound now. Tests
// replace it.
var portFree = func(m PortMapping) bool {
	closer, err := bindPort(m)
	if err != nil {
		return false
	}
	closer.Close()
	return true
}

// unprivilegedPortStart returns net.ipv4.ip_unprivileged_port_start, or -1
// when the kernel has none.
func unprivilegedPortStart() int {
	v := hostcheck.ReadSysctl("net.ipv4.ip_unprivileged_port_start")
	if v.Err != nil || !v.Present {
		return -1
	}
	return int(v.Value)
}

// CheckPorts fails, with what to change, when a host port of ports cannot
// be published: below net.ipv4.ip_unprivileged_port_start for an
// unprivileged user, or in use. It binds each fixed host port briefly, so
// it runs before anything of the container exists.
func CheckPorts(ports []PortMapping, privileged bool) error {
	start := unprivilegedPortStart()
	for _, m := range ports {
		if m.HostPort == 0 {
			continue
		}
		if !privileged && start >= 0 && int(m.HostPort) < start {
			return PrivilegedPortError(m, start)
		}
		closer, err := bindPort(m)
		if err != nil {
			return PortError(m, err, start)
		}
		closer.Close()
	}
	return nil
}
