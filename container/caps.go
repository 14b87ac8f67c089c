package container

import (
	"fmt"
	"sort"
	"strings"

	"github.com/moby/sys/capability"
)

// DefaultCapabilities is Docker's default capability set for containers.
var DefaultCapabilities = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE",
	"CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

// knownCapabilities returns the names of the capabilities that
// moby/sys/capability lists, with the CAP_ prefix.
func knownCapabilities() map[string]bool {
	known := map[string]bool{}
	for _, c := range capability.ListKnown() {
		known["CAP_"+strings.ToUpper(c.String())] = true
	}
	return known
}

// normalizeCapability turns "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN"
// into "CAP_NET_ADMIN"; "ALL" stays "ALL".
func normalizeCapability(name string) string {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "ALL" || strings.HasPrefix(n, "CAP_") {
		return n
	}
	return "CAP_" + n
}

// Capabilities computes the container's capability set from Docker's
// default set with --cap-add and --cap-drop applied. Drops apply first,
// so "--cap-drop ALL --cap-add CHOWN" leaves only CAP_CHOWN, as in Docker.
func Capabilities(add, drop []string) ([]string, error) {
	known := knownCapabilities()
	set := map[string]bool{}
	for _, c := range DefaultCapabilities {
		set[c] = true
	}
	for _, raw := range drop {
		c := normalizeCapability(raw)
		switch {
		case c == "ALL":
			set = map[string]bool{}
		case known[c]:
			delete(set, c)
		default:
			return nil, fmt.Errorf("invalid --cap-drop %q: unknown capability (see capabilities(7))", raw)
		}
	}
	for _, raw := range add {
		c := normalizeCapability(raw)
		switch {
		case c == "ALL":
			for k := range known {
				set[k] = true
			}
		case known[c]:
			set[c] = true
		default:
			return nil, fmt.Errorf("invalid --cap-add %q: unknown capability (see capabilities(7))", raw)
		}
	}
	caps := make([]string, 0, len(set))
	for c := range set {
		caps = append(caps, c)
	}
	sort.Strings(caps)
	return caps, nil
}
