package container

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/gocker/gocker/netstack"
)

// NetworkConfig is the network a container requests, beyond
// HostConfig.NetworkMode: published ports, extra /etc/hosts entries,
// nameservers, and the bridge of bridge mode.
type NetworkConfig struct {
	Ports      []netstack.PortMapping `json:"Ports,omitempty"`
	ExtraHosts []string               `json:"ExtraHosts,omitempty"`
	DNS        []string               `json:"Dns,omitempty"`
	DNSSearch  []string               `json:"DnsSearch,omitempty"`
	DNSOptions []string               `json:"DnsOptions,omitempty"`
	// Bridge and BridgeSubnet are the bridge of --network bridge and its
	// address, such as "gocker0" and "172.18.0.1/24".
	Bridge       string `json:"Bridge,omitempty"`
	BridgeSubnet string `json:"BridgeSubnet,omitempty"`
}

// networkFile holds a running container's [netstack.Settings]: its
// addresses and published ports. The network hook writes it once the
// network exists and removes it when the container stops.
const networkFile = "network.json"

// SaveNetworkSettings records c.NetworkSettings, or removes the record
// when it is nil.
func (s *Store) SaveNetworkSettings(c *Container) error {
	path := filepath.Join(s.Dir(c.ID), networkFile)
	if c.NetworkSettings == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return atomicfile.WriteJSON(path, c.NetworkSettings, 0o600)
}

// loadNetworkSettings reads the network record of a running container.
func (s *Store) loadNetworkSettings(c *Container) error {
	if c.State.Status != StatusRunning {
		return nil
	}
	var settings netstack.Settings
	err := atomicfile.ReadJSON(filepath.Join(s.Dir(c.ID), networkFile), &settings)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	c.NetworkSettings = &settings
	return nil
}

// etcOptions returns the settings of the container's generated /etc
// files.
func (c *Container) etcOptions() netstack.EtcOptions {
	opts := netstack.EtcOptions{
		Hostname:       c.Config.Hostname,
		HostNetwork:    c.HostConfig.NetworkMode == NetworkHost,
		HostResolvConf: "/etc/resolv.conf",
		HostHosts:      "/etc/hosts",
		ExtraHosts:     c.Network.ExtraHosts,
		DNS:            c.Network.DNS,
		DNSSearch:      c.Network.DNSSearch,
		DNSOptions:     c.Network.DNSOptions,
	}
	if n := c.NetworkSettings; n != nil {
		opts.Address = n.IPAddress
		opts.Gateway = n.Gateway
		opts.Nameservers = n.Nameservers
	}
	return opts
}

// MonitorLockPath returns the file that c's monitor keeps locked while
// the container runs.
func (s *Store) MonitorLockPath(c *Container) string {
	return filepath.Join(s.Dir(c.ID), "monitor.lock")
}
