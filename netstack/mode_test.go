package netstack

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		value   string
		want    Mode
		wantErr string
	}{
		{value: "none", want: Mode{Name: ModeNone}},
		{value: "host", want: Mode{Name: ModeHost}},
		{value: "bridge", want: Mode{Name: ModeBridge}},
		{value: "slirp4netns", want: Mode{Name: ModeSlirp4netns}},
		{value: "pasta:allow_host_loopback=true", want: Mode{Name: ModePasta, AllowHostLoopback: true}},
		{value: "slirp4netns:allow_host_loopback=false", want: Mode{Name: ModeSlirp4netns}},
		{value: "slirp4netns:port_handler=bypass", want: Mode{Name: ModeSlirp4netns, PortHandler: PortHandlerBypass}},
		{value: "slirp4netns:port_handler=rootlesskit", want: Mode{Name: ModeSlirp4netns}},
		{value: "pasta:port_handler=bypass,allow_host_loopback=true", want: Mode{Name: ModePasta, AllowHostLoopback: true, PortHandler: PortHandlerBypass}},
		{value: "slirp4netns:port_handler=splice", wantErr: "port_handler=rootlesskit|bypass"},
		{value: "bridge:port_handler=bypass", wantErr: "only slirp4netns and pasta"},
		{value: "", wantErr: "use none, host"},
		{value: "container:web", wantErr: "use none, host"},
		{value: "bridge:allow_host_loopback=true", wantErr: "only slirp4netns and pasta"},
		{value: "slirp4netns:", wantErr: "empty option"},
		{value: "slirp4netns:mtu=1500", wantErr: "unknown option"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := ParseMode(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMode(%q) error = %v, want one containing %q", tt.value, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseMode(%q) = %+v, want %+v", tt.value, got, tt.want)
			}
			if again, err := ParseMode(got.String()); err != nil || again != got {
				t.Errorf("ParseMode(%q.String() = %q) = %+v, %v", tt.value, got.String(), again, err)
			}
		})
	}
}

func TestDefaultMode(t *testing.T) {
	only := func(names ...string) func(string) bool {
		return func(name string) bool {
			for _, n := range names {
				if n == name {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name      string
		rootless  bool
		installed func(string) bool
		want      string
	}{
		{"root", false, only(), ModeBridge},
		{"both installed", true, only(ModeSlirp4netns, ModePasta), ModeSlirp4netns},
		{"pasta only", true, only(ModePasta), ModePasta},
		{"slirp4netns only", true, only(ModeSlirp4netns), ModeSlirp4netns},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultMode(tt.rootless, UserModePreference, tt.installed)
			if err != nil || got.Name != tt.want {
				t.Errorf("DefaultMode = %v, %v, want %s", got, err, tt.want)
			}
		})
	}
	_, err := DefaultMode(true, UserModePreference, only())
	if !errors.Is(err, ErrNoUserModeTool) || !strings.Contains(err.Error(), "apt-get install") {
		t.Errorf("DefaultMode without tools: %v, want ErrNoUserModeTool with the install command", err)
	}
}

func TestSettingsSetPorts(t *testing.T) {
	var s Settings
	s.SetPorts([]PortMapping{
		{HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		mustParsePort(t, "[::1]:8081:80"),
		mustParsePort(t, "127.0.0.1:5353:53/udp"),
	})
	want := map[string][]PortBinding{
		"80/tcp": {{HostIP: "0.0.0.0", HostPort: "8080"}, {HostIP: "::1", HostPort: "8081"}},
		"53/udp": {{HostIP: "127.0.0.1", HostPort: "5353"}},
	}
	if diff := cmp.Diff(want, s.Ports); diff != "" {
		t.Errorf("Ports (-want +got):\n%s", diff)
	}
}

func mustParsePort(t *testing.T, spec string) PortMapping {
	t.Helper()
	m, err := ParsePortSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeFreePorts makes portFree report every host port free but busy.
func fakeFreePorts(t *testing.T, busy ...uint16) {
	t.Helper()
	saved := portFree
	portFree = func(m PortMapping) bool { return !slices.Contains(busy, m.HostPort) }
	t.Cleanup(func() { portFree = saved })
}

func TestPortError(t *testing.T) {
	fakeFreePorts(t)
	m := PortMapping{HostPort: 80, ContainerPort: 80, Proto: "tcp"}
	inUse := PortError(PortMapping{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}, fmt.Errorf("listen: %w", syscall.EADDRINUSE), 1024)
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"in use", inUse, []string{"0.0.0.0:8080/tcp is already in use", "-p 8081:80"}},
		{"privileged", PortError(m, syscall.EACCES, 1024), []string{"below net.ipv4.ip_unprivileged_port_start (1024)", "-p 8080:80", "sysctl net.ipv4.ip_unprivileged_port_start=80"}},
		{"denied above the limit", PortError(m, syscall.EACCES, 0), []string{"permission denied"}},
		{"no such address", PortError(mustParsePort(t, "192.0.2.1:8080:80"), syscall.EADDRNOTAVAIL, 1024), []string{"has no address 192.0.2.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				if !strings.Contains(tt.err.Error(), w) {
					t.Errorf("error %q does not contain %q", tt.err, w)
				}
			}
		})
	}
	if !errors.Is(inUse, syscall.EADDRINUSE) {
		t.Errorf("the in-use error does not wrap EADDRINUSE")
	}
}

func TestPortErrorSuggestion(t *testing.T) {
	fakeFreePorts(t, 18081, 8080)
	inUse := fmt.Errorf("listen: %w", syscall.EADDRINUSE)
	tests := []struct {
		name, spec string
		err        error
		want       string
	}{
		{"keeps the address and skips busy ports", "127.0.0.1:18080:80", inUse, "such as -p 127.0.0.1:18082:80, or leave it out (-p 127.0.0.1::80)"},
		{"keeps udp", "127.0.0.1:15353:53/udp", inUse, "such as -p 127.0.0.1:15354:53/udp,"},
		{"no port above 65535", "65535:80", inUse, "leave the host port out (-p :80) for a free one"},
		{"IPv6 in brackets", "[::1]:18080:80", inUse, "such as -p [::1]:18082:80,"},
		{"privileged keeps the address", "127.0.0.1:80:80", syscall.EACCES, "(choose another host port, such as -p 127.0.0.1:8081:80,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PortError(mustParsePort(t, tt.spec), tt.err, 1024).Error()
			if !strings.Contains(got, tt.want) {
				t.Errorf("error %q does not contain %q", got, tt.want)
			}
		})
	}
}

func TestPortMappingStringIPv4(t *testing.T) {
	if got := mustParsePort(t, "127.0.0.1:8080:80").String(); got != "127.0.0.1:8080:80/tcp" {
		t.Errorf("String() = %q, want 127.0.0.1:8080:80/tcp", got)
	}
	if got := mustParsePort(t, "[::1]:8080:80/udp").String(); got != "[::1]:8080:80/udp" {
		t.Errorf("String() = %q, want [::1]:8080:80/udp", got)
	}
}
