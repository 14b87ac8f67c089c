package container

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// setLoopbackUp brings up lo in the container's new network namespace,
// which the kernel creates down.
func setLoopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find loopback interface: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring up loopback interface: %w", err)
	}
	return nil
}
