package container

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ParseSignal parses a signal as docker kill -s and STOPSIGNAL take it: a
// name with or without the SIG prefix, in any case, or a number.
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q: numbers run from 1 to 64", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("invalid signal %q: use a name such as TERM or SIGKILL, or a number", s)
	}
	return sig, nil
}

// StopSignal returns the signal gocker stop sends first: the container's
// configured one, or SIGTERM.
func (c *Container) StopSignal() unix.Signal {
	if c.Config.StopSignal != "" {
		if sig, err := ParseSignal(c.Config.StopSignal); err == nil {
			return sig
		}
	}
	return unix.SIGTERM
}
