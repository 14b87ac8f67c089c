package container

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/gocker/gocker/cgroupv2"
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

func TestInspectHostConfigFull(t *testing.T) {
	h := HostConfig{
		Binds:         []Mount{{Source: "/srv/data", Destination: "/data", ReadOnly: true}},
		NetworkMode:   "none",
		ReadOnly:      true,
		CapAdd:        []string{"CAP_NET_ADMIN"},
		CapDrop:       []string{"CAP_CHOWN"},
		AutoRemove:    true,
		RestartPolicy: RestartPolicy{Name: RestartOnFailure, MaximumRetryCount: 3},
		LogConfig:     LogConfig{Type: LogDriverJSONFile, Config: map[string]string{"max-size": "1m"}},
		Init:          true,
		Resources: cgroupv2.Resources{
			Memory: 64 << 20, MemorySwap: 128 << 20, NanoCPUs: 5e8,
			CPUShares: 512, CpusetCpus: "0", PidsLimit: 20,
		},
	}
	n := NetworkConfig{
		Ports: []netstack.PortMapping{
			{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
			{ContainerPort: 53, Proto: "udp"},
		},
		DNS:        []string{"192.0.2.53"},
		DNSSearch:  []string{"example.test"},
		DNSOptions: []string{"ndots:2"},
		ExtraHosts: []string{"db:192.0.2.10"},
	}
	data, err := json.Marshal(inspectHost(h, n))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	init := true
	limit := int64(20)
	want := InspectHost{
		Binds:       []string{"/srv/data:/data:ro"},
		LogConfig:   LogConfig{Type: LogDriverJSONFile, Config: map[string]string{"max-size": "1m"}},
		NetworkMode: "none",
		PortBindings: map[string][]PortBinding{
			"80/tcp": {{HostIP: "127.0.0.1", HostPort: "8080"}},
			"53/udp": {{}},
		},
		RestartPolicy:  RestartPolicy{Name: RestartOnFailure, MaximumRetryCount: 3},
		AutoRemove:     true,
		CapAdd:         []string{"CAP_NET_ADMIN"},
		CapDrop:        []string{"CAP_CHOWN"},
		Dns:            []string{"192.0.2.53"},
		DnsOptions:     []string{"ndots:2"},
		DnsSearch:      []string{"example.test"},
		ExtraHosts:     []string{"db:192.0.2.10"},
		Init:           &init,
		ReadonlyRootfs: true,
		Memory:         64 << 20,
		MemorySwap:     128 << 20,
		NanoCpus:       5e8,
		CpuShares:      512,
		CpusetCpus:     "0",
		PidsLimit:      &limit,
	}
	if diff := cmp.Diff(want, inspectHost(h, n)); diff != "" {
		t.Errorf("HostConfig (-want +got):\n%s", diff)
	}

	// Templates see the JSON names, so check the ones Docker users type.
	for name, value := range map[string]any{
		"Memory": 67108864.0, "MemorySwap": 134217728.0, "NanoCpus": 5e8, "CpuShares": 512.0,
		"CpusetCpus": "0", "PidsLimit": 20.0, "ReadonlyRootfs": true, "AutoRemove": true,
	} {
		if got[name] != value {
			t.Errorf("JSON HostConfig.%s = %v, want %v", name, got[name], value)
		}
	}
	wantPorts := `{"53/udp":[{"HostIp":"","HostPort":""}],"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]}`
	ports, err := json.Marshal(got["PortBindings"])
	if err != nil {
		t.Fatal(err)
	}
	if string(ports) != wantPorts {
		t.Errorf("JSON HostConfig.PortBindings = %s, want %s", ports, wantPorts)
	}
}

func TestInspectHostConfigDefaults(t *testing.T) {
	got := inspectHost(HostConfig{NetworkMode: "none"}, NetworkConfig{})
	if got.PidsLimit != nil {
		t.Errorf("PidsLimit = %d, want nil without --pids-limit", *got.PidsLimit)
	}
	if got.Init != nil {
		t.Errorf("Init = %v, want nil without --init", *got.Init)
	}
	if got.RestartPolicy.Name != RestartNo {
		t.Errorf("RestartPolicy.Name = %q, want %q", got.RestartPolicy.Name, RestartNo)
	}
	if got.LogConfig.Type != LogDriverJSONFile {
		t.Errorf("LogConfig.Type = %q, want %q", got.LogConfig.Type, LogDriverJSONFile)
	}
	if got.PortBindings == nil || len(got.PortBindings) != 0 {
		t.Errorf("PortBindings = %#v, want an empty map", got.PortBindings)
	}
	if got.Dns == nil || len(got.Dns) != 0 {
		t.Errorf("Dns = %#v, want an empty list", got.Dns)
	}
}

func TestInspectHostConfigDefaultSwap(t *testing.T) {
	h := HostConfig{Resources: cgroupv2.Resources{Memory: 64 << 20}}
	got := inspectHost(h, NetworkConfig{})
	if got.MemorySwap != 128<<20 {
		t.Errorf("MemorySwap = %d, want %d (twice --memory without --memory-swap)", got.MemorySwap, 128<<20)
	}
	h.MemorySwap = -1
	if got := inspectHost(h, NetworkConfig{}); got.MemorySwap != -1 {
		t.Errorf("MemorySwap = %d, want -1 for unlimited swap", got.MemorySwap)
	}
}
