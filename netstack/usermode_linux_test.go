package netstack

import (
	"strings"
	"testing"
)

func TestParseDefaultRoute(t *testing.T) {
	const table = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	gw, dev, err := parseDefaultRoute(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	if gw.String() != "192.0.2.1" || dev != "eth0" {
		t.Errorf("default route = %s dev %s, want 192.0.2.1 dev eth0", gw, dev)
	}
	if _, _, err := parseDefaultRoute(strings.NewReader(strings.Join(strings.Split(table, "\n")[:2], "\n"))); err == nil {
		t.Error("a table without a default route returned one")
	}
}
