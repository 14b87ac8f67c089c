package netstack

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// PortError explains why the host side of m could not be bound, with what
// to change. unprivStart is net.ipv4.ip_unprivileged_port_start, or -1
// when unknown.
func PortError(m PortMapping, err error, unprivStart int) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("publish %s: host port %s/%s is already in use: %s, or stop the program or container that uses it: %w",
			m, m.HostAddress(), m.Proto, otherPortAdvice(m, int(m.HostPort)+1), err)
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
	return fmt.Errorf("publish %s: host port %d is below net.ipv4.ip_unprivileged_port_start (%d), so only root can bind it: publish a port of %d or above (%s), or lower the limit with \"sudo sysctl net.ipv4.ip_unprivileged_port_start=%d\"",
		m, m.HostPort, unprivStart, unprivStart, otherPortAdvice(m, max(unprivStart, 8080)), m.HostPort)
}

// portSearch is how many host ports from the first candidate
// otherPortAdvice tries.
const portSearch = 100

// otherPortAdvice suggests a --publish value like m, with its address and
// protocol, on the first host port from first on that can be bound now,
// or without a host port, which picks a free one.
func otherPortAdvice(m PortMapping, first int) string {
	auto := m
	auto.HostPort = 0
	for port := first; port <= 65535 && port < first+portSearch; port++ {
		candidate := m
		candidate.HostPort = uint16(port)
		if portFree(candidate) {
			return fmt.Sprintf("choose another host port, such as -p %s, or leave it out (-p %s) for a free one", publishValue(candidate), publishValue(auto))
		}
	}
	return fmt.Sprintf("leave the host port out (-p %s) for a free one", publishValue(auto))
}

// publishValue formats m as a --publish value, without "/tcp", which is
// the default.
func publishValue(m PortMapping) string {
	return strings.TrimSuffix(m.String(), "/tcp")
}
