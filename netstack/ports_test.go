package netstack

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParsePortSpec(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name    string
		spec    string
		want    PortMapping
		wantErr string
	}{
		{name: "container port only", spec: "80", want: PortMapping{ContainerPort: 80, Proto: "tcp"}},
		{name: "host and container", spec: "8080:80", want: PortMapping{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}},
		{name: "udp", spec: "5353:53/udp", want: PortMapping{HostPort: 5353, ContainerPort: 53, Proto: "udp"}},
		{name: "explicit tcp", spec: "80/tcp", want: PortMapping{ContainerPort: 80, Proto: "tcp"}},
		{name: "address", spec: "127.0.0.1:8080:80", want: PortMapping{HostIP: lo, HostPort: 8080, ContainerPort: 80, Proto: "tcp"}},
		{name: "address random port", spec: "127.0.0.1::80", want: PortMapping{HostIP: lo, ContainerPort: 80, Proto: "tcp"}},
		{name: "empty host port", spec: ":80", want: PortMapping{ContainerPort: 80, Proto: "tcp"}},
		{name: "unspecified address", spec: "0.0.0.0:8080:80", want: PortMapping{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}},
		{name: "ipv6 in brackets", spec: "[::1]:8080:80/udp", want: PortMapping{HostIP: netip.MustParseAddr("::1"), HostPort: 8080, ContainerPort: 80, Proto: "udp"}},
		{name: "highest port", spec: "65535:65535", want: PortMapping{HostPort: 65535, ContainerPort: 65535, Proto: "tcp"}},
		{name: "empty", spec: "", wantErr: "container port"},
		{name: "zero port", spec: "0", wantErr: "not a port number"},
		{name: "too large", spec: "65536", wantErr: "not a port number"},
		{name: "leading zero", spec: "080", wantErr: "not a port number"},
		{name: "sign", spec: "+80", wantErr: "not a port number"},
		{name: "range", spec: "8000-8001:80-81", wantErr: "port ranges"},
		{name: "sctp", spec: "80/sctp", wantErr: "unknown protocol"},
		{name: "bad address", spec: "localhost:8080:80", wantErr: "not an IP address"},
		{name: "ipv6 without brackets", spec: "::1:8080:80", wantErr: "use [IP:]"},
		{name: "unclosed bracket", spec: "[::1:8080:80", wantErr: "brackets"},
		{name: "zone", spec: "[fe80::1%eth0]:8080:80", wantErr: "not an IP address"},
		{name: "empty address", spec: "::80", wantErr: "empty IP address"},
		{name: "missing container port", spec: "8080:", wantErr: "container port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePortSpec(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePortSpec(%q) error = %v, want one containing %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParsePortSpec(%q) = %+v, want %+v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestParsePortSpecsDuplicates(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		ok    bool
	}{
		{"different protocols", []string{"8080:80", "8080:80/udp"}, true},
		{"different addresses", []string{"127.0.0.1:8080:80", "127.0.0.2:8080:81"}, true},
		{"random ports", []string{"80", "80"}, true},
		{"same port", []string{"8080:80", "8080:81"}, false},
		{"all and one address", []string{"8080:80", "127.0.0.1:8080:81"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePortSpecs(tt.specs)
			if (err == nil) != tt.ok {
				t.Errorf("ParsePortSpecs(%q) error = %v, want ok=%v", tt.specs, err, tt.ok)
			}
		})
	}
}

func TestPortMappingFormat(t *testing.T) {
	m := PortMapping{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}
	if got := m.Key() + " -> " + m.HostAddress(); got != "80/tcp -> 0.0.0.0:8080" {
		t.Errorf("format = %q", got)
	}
	if got := m.ListenAddress(); got != ":8080" {
		t.Errorf("ListenAddress = %q, want :8080", got)
	}
	m.HostIP = netip.MustParseAddr("::1")
	if got := m.HostAddress(); got != "[::1]:8080" {
		t.Errorf("HostAddress = %q, want [::1]:8080", got)
	}
	if got := m.ListenAddress(); got != "[::1]:8080" {
		t.Errorf("ListenAddress = %q, want [::1]:8080", got)
	}
}

func FuzzParsePortSpec(f *testing.F) {
	for _, s := range []string{"80", "8080:80/udp", "127.0.0.1::80", "[::1]:1:2/tcp", "::", "[", "1-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := ParsePortSpec(spec)
		if err != nil {
			return
		}
		if m.ContainerPort == 0 {
			t.Fatalf("ParsePortSpec(%q) accepted container port 0", spec)
		}
		if m.Proto != "tcp" && m.Proto != "udp" {
			t.Fatalf("ParsePortSpec(%q) returned protocol %q", spec, m.Proto)
		}
		again, err := ParsePortSpec(m.String())
		if err != nil {
			t.Fatalf("ParsePortSpec(%q) = %+v, but its String %q does not parse: %v", spec, m, m.String(), err)
		}
		if again != m {
			t.Fatalf("ParsePortSpec(%q) = %+v, reparsed from %q as %+v", spec, m, m.String(), again)
		}
	})
}
