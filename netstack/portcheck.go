package netstack

import (
	"errors"
	"fmt"
	"syscall"
)

// PortError explains why the host side of m could not be bound, with what
// to change. unprivStart is net.ipv4.ip_unprivileged_port_start, or -1
// when unknown.
func PortError(m PortMapping, err error, unprivStart int) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("publish %s: host port %s/%s is already in use: choose another host port (such as -p %d:%d) or stop the program or container that uses it: %w",
			m, m.HostAddress(), m.Proto, int(m.HostPort)+1, m.ContainerPort, err)
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		if unprivStart >= 0 && int(m.HostPort) < unprivStart {
			return PrivilegedPortError(m, unprivStart)
		}
		return fmt.Errorf("publish %s: %w", m, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("publish %s: the host has no address %s: use one of its addresses or leave the address out: %w", m, m.HostIP, err)
	}
	return fmt.Errorf("publish %s: %w", m, err)
}

// PrivilegedPortError is the error for a host port that an unprivileged
// user may not bind.
func PrivilegedPortError(m PortMapping, unprivStart int) error {
	return fmt.Errorf("publish %s: host port %d is below net.ipv4.ip_unprivileged_port_start (%d), so only root can bind it: publish a port of %d or above (such as -p %d:%d), or lower the limit with \"sudo sysctl net.ipv4.ip_unprivileged_port_start=%d\"",
		m, m.HostPort, unprivStart, unprivStart, max(unprivStart, 8080), m.ContainerPort, m.HostPort)
}
