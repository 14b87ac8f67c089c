package netstack

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParseBridgeConfig(t *testing.T) {
	tests := []struct {
		name, bridge, subnet string
		want                 string
		wantErr              bool
	}{
		{name: "default", bridge: "gocker0", subnet: "172.18.0.1/24", want: "172.18.0.1/24"},
		{name: "network address", bridge: "gocker0", subnet: "10.9.0.0/16", want: "10.9.0.1/16"},
		{name: "other gateway", bridge: "br1", subnet: "10.9.0.254/24", want: "10.9.0.254/24"},
		{name: "broadcast", bridge: "br1", subnet: "10.9.0.255/24", wantErr: true},
		{name: "ipv6", bridge: "br1", subnet: "fd00::1/64", wantErr: true},
		{name: "too small", bridge: "br1", subnet: "10.0.0.1/31", wantErr: true},
		{name: "not a prefix", bridge: "br1", subnet: "10.0.0.1", wantErr: true},
		{name: "long name", bridge: "a-very-long-bridge", subnet: "10.0.0.1/24", wantErr: true},
		{name: "slash in name", bridge: "br/1", subnet: "10.0.0.1/24", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseBridgeConfig(tt.bridge, tt.subnet)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseBridgeConfig(%q, %q) = %v, want an error", tt.bridge, tt.subnet, cfg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Gateway.String() != tt.want {
				t.Errorf("gateway = %s, want %s", cfg.Gateway, tt.want)
			}
		})
	}
}

func TestAllocateAddress(t *testing.T) {
	cfg, err := ParseBridgeConfig("gocker0", "172.18.0.1/24")
	if err != nil {
		t.Fatal(err)
	}
	used := map[netip.Addr]bool{}
	seen := map[netip.Addr]bool{}
	for i := 0; i < 253; i++ {
		a, err := allocateAddress(cfg, used)
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		switch {
		case a == cfg.Gateway.Addr():
			t.Fatalf("allocated the gateway %s", a)
		case a.String() == "172.18.0.0" || a.String() == "172.18.0.255":
			t.Fatalf("allocated the network or broadcast address %s", a)
		case !cfg.Gateway.Contains(a):
			t.Fatalf("allocated %s outside %s", a, cfg.Gateway)
		case seen[a]:
			t.Fatalf("allocated %s twice", a)
		}
		seen[a], used[a] = true, true
	}
	if _, err := allocateAddress(cfg, used); !errors.Is(err, ErrNoFreeAddress) {
		t.Errorf("allocation in a full subnet: %v, want ErrNoFreeAddress", err)
	}
	delete(used, netip.MustParseAddr("172.18.0.77"))
	if a, err := allocateAddress(cfg, used); err != nil || a.String() != "172.18.0.77" {
		t.Errorf("allocation after a release = %v, %v, want 172.18.0.77", a, err)
	}
}

func TestVethName(t *testing.T) {
	if got := vethName("0123456789abcdef0123"); got != "gk0123456789ab" || len(got) > 15 {
		t.Errorf("vethName = %q", got)
	}
}
