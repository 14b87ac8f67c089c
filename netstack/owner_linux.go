package netstack

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
)

// ownerAliasPrefix starts the alias (IFLA_IFALIAS) that gocker gives a
// bridge it creates, followed by the path of the bridge's lease file. The
// bridge and its nftables table belong to the network namespace, but the
// lease file belongs to a runtime directory, so the alias lets a gocker
// with another runtime directory see that the bridge is taken.
const ownerAliasPrefix = "gocker:"

// ownerAlias returns the alias of a bridge whose lease file is leasePath.
func ownerAlias(leasePath string) string { return ownerAliasPrefix + leasePath }

// leasePath returns the path of the lease file of bridge in the runtime
// directory stateDir.
func leasePath(stateDir, bridge string) string {
	return filepath.Join(stateDir, "network", bridge+".json")
}

// CheckBridgeOwner fails when the bridge of cfg exists and gocker created
// it with a lease file other than the one in the runtime directory
// stateDir. A missing bridge, or one without gocker's alias, passes. It
// only reads, so it runs before anything of the container exists.
func CheckBridgeOwner(cfg BridgeConfig, stateDir string) error {
	return checkBridgeOwner(cfg, leasePath(stateDir, cfg.Name))
}

func checkBridgeOwner(cfg BridgeConfig, ownLeases string) error {
	link, err := netlink.LinkByName(cfg.Name)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		return nil
	case err != nil:
		return fmt.Errorf("find bridge %s: %w", cfg.Name, err)
	}
	other, ok := strings.CutPrefix(link.Attrs().Alias, ownerAliasPrefix)
	if !ok || other == ownLeases {
		return nil
	}
	// The lease file is RUNTIME/network/BRIDGE.json.
	otherDir := filepath.Dir(filepath.Dir(other))
	return fmt.Errorf("bridge %s belongs to the gocker runtime directory %s (lease file %s), and sharing it would give containers of both the same addresses: run with GOCKER_RUNTIME_DIR=%s, or choose another --bridge and --bridge-subnet",
		cfg.Name, otherDir, other, otherDir)
}
