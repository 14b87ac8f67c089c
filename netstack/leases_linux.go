package netstack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/gocker/gocker/internal/lockfile"
)

// bridgeState is the lease file of one bridge, RUNTIME/network/BRIDGE.json,
// read and written under the lock RUNTIME/network/BRIDGE.lock. It records
// everything gocker created for the bridge and for each container on it,
// so that removing a container, or the next gocker command after a
// crash, deletes exactly that.
type bridgeState struct {
	Bridge string `json:"bridge"`
	// Gateway is the bridge's address and prefix, "172.18.0.1/24".
	Gateway string `json:"gateway"`
	// CreatedBridge is set when gocker created the bridge, which it then
	// deletes with the last lease; a bridge the administrator made stays.
	CreatedBridge bool `json:"created_bridge,omitempty"`
	// EnabledForwarding is set when net.ipv4.ip_forward was 0 and gocker
	// set it to 1 for the bridge.
	EnabledForwarding bool `json:"enabled_forwarding,omitempty"`
	// Leases are the containers on the bridge, by container id.
	Leases map[string]*lease `json:"leases"`
}

// lease is one container's address and what was created for it.
type lease struct {
	Address string `json:"address"`
	// Veth is the host side of the container's veth pair.
	Veth string `json:"veth"`
	// MonitorLock is the container's monitor lock, held while the
	// container runs: a lease whose lock is free belongs to a container
	// whose monitor died, and is stale.
	MonitorLock string `json:"monitor_lock"`
	// Ports are the published ports, each a DNAT rule tagged with the
	// container's id.
	Ports []PortMapping `json:"ports,omitempty"`
}

// leaseFile is an open, locked lease file.
type leaseFile struct {
	path  string
	lock  *lockfile.Lock
	state bridgeState
}

// openLeases locks and reads the lease file of bridge in dir.
func openLeases(ctx context.Context, dir, bridge string) (*leaseFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create network state directory: %w", err)
	}
	lock, err := lockfile.Exclusive(ctx, filepath.Join(dir, bridge+".lock"))
	if err != nil {
		return nil, fmt.Errorf("lock the leases of bridge %s: %w", bridge, err)
	}
	f := &leaseFile{path: filepath.Join(dir, bridge+".json"), lock: lock}
	err = atomicfile.ReadJSON(f.path, &f.state)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		lock.Unlock()
		return nil, fmt.Errorf("read the leases of bridge %s: %w", bridge, err)
	}
	if f.state.Leases == nil {
		f.state.Leases = map[string]*lease{}
	}
	f.state.Bridge = bridge
	return f, nil
}

// save writes the lease file, or removes it when nothing is leased and
// the bridge's own setup was undone.
func (f *leaseFile) save() error {
	if len(f.state.Leases) == 0 && f.state.Gateway == "" {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return atomicfile.WriteJSON(f.path, &f.state, 0o600)
}

func (f *leaseFile) close() { f.lock.Unlock() }

// used returns the leased addresses.
func (f *leaseFile) used() map[netip.Addr]bool {
	used := map[netip.Addr]bool{}
	for _, l := range f.state.Leases {
		if a, err := netip.ParseAddr(l.Address); err == nil {
			used[a] = true
		}
	}
	return used
}

// stale returns the ids of leases whose container's monitor is gone.
func (f *leaseFile) stale() []string {
	var ids []string
	for id, l := range f.state.Leases {
		if !lockfile.Held(l.MonitorLock) {
			ids = append(ids, id)
		}
	}
	return ids
}
