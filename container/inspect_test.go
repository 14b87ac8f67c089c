package container

import (
	"testing"

	"github.com/gocker/gocker/netstack"
	"github.com/google/go-cmp/cmp"
)

func TestInspectNetworkBridge(t *testing.T) {
	c := &Container{
		HostConfig: HostConfig{NetworkMode: "bridge"},
		NetworkSettings: &netstack.Settings{
			Mode: "bridge", IPAddress: "172.18.0.2", IPPrefixLen: 24, Gateway: "172.18.0.1",
			MacAddress: "02:42:ac:12:00:02", Bridge: "gocker0",
			Ports: map[string][]netstack.PortBinding{"80/tcp": {{HostIP: "127.0.0.1", HostPort: "8088"}}},
		},
	}
	endpoint := EndpointSetting{Gateway: "172.18.0.1", IPAddress: "172.18.0.2", IPPrefixLen: 24, MacAddress: "02:42:ac:12:00:02"}
	want := &NetworkSettings{
		Ports:       map[string][]PortBinding{"80/tcp": {{HostIP: "127.0.0.1", HostPort: "8088"}}},
		Gateway:     "172.18.0.1",
		IPAddress:   "172.18.0.2",
		IPPrefixLen: 24,
		MacAddress:  "02:42:ac:12:00:02",
		Networks:    map[string]EndpointSetting{"bridge": endpoint},
	}
	if diff := cmp.Diff(want, inspectNetwork(c)); diff != "" {
		t.Errorf("NetworkSettings (-want +got):\n%s", diff)
	}
}

func TestInspectNetworkUserMode(t *testing.T) {
	c := &Container{
		HostConfig:      HostConfig{NetworkMode: "slirp4netns:allow_host_loopback=true"},
		NetworkSettings: &netstack.Settings{IPAddress: "10.0.2.100", IPPrefixLen: 24, Gateway: "10.0.2.2"},
	}
	got := inspectNetwork(c)
	want := EndpointSetting{Gateway: "10.0.2.2", IPAddress: "10.0.2.100", IPPrefixLen: 24}
	if diff := cmp.Diff(map[string]EndpointSetting{"slirp4netns": want}, got.Networks); diff != "" {
		t.Errorf("Networks (-want +got):\n%s", diff)
	}
	if got.IPAddress != "10.0.2.100" {
		t.Errorf("IPAddress = %q, want 10.0.2.100", got.IPAddress)
	}
}

func TestInspectNetworkStopped(t *testing.T) {
	for _, mode := range []string{"none", "host", "bridge"} {
		got := inspectNetwork(&Container{HostConfig: HostConfig{NetworkMode: mode}})
		want := &NetworkSettings{Ports: map[string][]PortBinding{}, Networks: map[string]EndpointSetting{mode: {}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("--network %s: NetworkSettings (-want +got):\n%s", mode, diff)
		}
	}
}
