package main

import (
	"slices"
	"testing"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/netstack"
)

func TestComparePortKeys(t *testing.T) {
	keys := []string{"8080/tcp", "53/udp", "80/udp", "80/tcp", "443/tcp"}
	slices.SortFunc(keys, comparePortKeys)
	want := []string{"53/udp", "80/tcp", "80/udp", "443/tcp", "8080/tcp"}
	if !slices.Equal(keys, want) {
		t.Errorf("sorted = %q, want %q", keys, want)
	}
}

func TestFormatPorts(t *testing.T) {
	var s netstack.Settings
	s.SetPorts([]netstack.PortMapping{
		{HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{HostPort: 5353, ContainerPort: 53, Proto: "udp"},
	})
	ctr := &container.Container{NetworkSettings: &s}
	if got, want := formatPorts(ctr), "0.0.0.0:5353->53/udp, 0.0.0.0:8080->80/tcp"; got != want {
		t.Errorf("formatPorts = %q, want %q", got, want)
	}
	if got := formatPorts(&container.Container{}); got != "" {
		t.Errorf("formatPorts without a network = %q, want empty", got)
	}
}
