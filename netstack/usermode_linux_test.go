package netstack

import (
	"net/netip"
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

func TestPastaPortArgs(t *testing.T) {
	ports := []PortMapping{
		{HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 15202, ContainerPort: 5201, Proto: "tcp"},
		{HostIP: netip.MustParseAddr("::1"), HostPort: 8443, ContainerPort: 443, Proto: "tcp"},
	}
	got := strings.Join(pastaPortArgs(ports), " ")
	want := "--tcp-ports 8080:80 --tcp-ports 127.0.0.1/15202:5201 --tcp-ports ::1/8443:443 --udp-ports none --tcp-ns none --udp-ns none"
	if got != want {
		t.Errorf("pastaPortArgs = %q, want %q", got, want)
	}
	got = strings.Join(pastaPortArgs(nil), " ")
	want = "--tcp-ports none --udp-ports none --tcp-ns none --udp-ns none"
	if got != want {
		t.Errorf("pastaPortArgs(nil) = %q, want %q", got, want)
	}
}

func TestPastaForwardsTCPOnly(t *testing.T) {
	if !pastaForwards(PortMapping{Proto: "tcp"}) {
		t.Error("pasta does not forward a TCP port")
	}
	if pastaForwards(PortMapping{Proto: "udp"}) {
		t.Error("pasta forwards a UDP port, whose translated replies it drops")
	}
}
