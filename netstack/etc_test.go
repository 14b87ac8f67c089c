package netstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFilterResolvConf(t *testing.T) {
	const input = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch example.test\noptions edns0\n"
	tests := []struct {
		name        string
		hostNetwork bool
		want        string
	}{
		{"own network drops loopback", false, "# generated\nnameserver 10.0.0.2\nsearch example.test\noptions edns0\n"},
		{"host network keeps all", true, input},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FilterResolvConf(strings.NewReader(input), tt.hostNetwork)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEtcFiles(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "host-resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.53\nnameserver 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := EtcFiles(EtcOptions{Hostname: "web", HostResolvConf: resolv, ExtraHosts: []string{"db:192.0.2.9"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/etc/hostname":    "web\n",
		"/etc/resolv.conf": "nameserver 192.0.2.1\n",
		"/etc/hosts":       "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n192.0.2.9\tdb\n127.0.1.1\tweb\n",
	}
	if len(files) != len(want) {
		t.Fatalf("got %d files, want %d", len(files), len(want))
	}
	for _, f := range files {
		if string(f.Data) != want[f.Destination] {
			t.Errorf("%s = %q, want %q", f.Destination, f.Data, want[f.Destination])
		}
	}
}

func TestEtcFilesNetwork(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "host-resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.53\nsearch example.test\noptions edns0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		opts       EtcOptions
		wantResolv string
		wantOwn    string
	}{
		{
			name:       "user-mode forwarder",
			opts:       EtcOptions{Hostname: "web", HostResolvConf: resolv, Address: "10.0.2.100", Nameservers: []string{"10.0.2.3"}},
			wantResolv: "nameserver 10.0.2.3\nsearch example.test\noptions edns0\n",
			wantOwn:    "10.0.2.100\tweb\n",
		},
		{
			name:       "dns flag wins",
			opts:       EtcOptions{Hostname: "web", HostResolvConf: resolv, Nameservers: []string{"10.0.2.3"}, DNS: []string{"192.0.2.53"}},
			wantResolv: "nameserver 192.0.2.53\nsearch example.test\noptions edns0\n",
			wantOwn:    "127.0.1.1\tweb\n",
		},
		{
			name:       "bridge drops loopback",
			opts:       EtcOptions{Hostname: "web", HostResolvConf: resolv, Address: "172.18.0.2"},
			wantResolv: "search example.test\noptions edns0\n",
			wantOwn:    "172.18.0.2\tweb\n",
		},
		{
			name:       "search and options replaced",
			opts:       EtcOptions{Hostname: "web", HostResolvConf: resolv, Nameservers: []string{"10.0.2.3"}, DNSSearch: []string{"a.test", "b.test"}, DNSOptions: []string{"ndots:2"}},
			wantResolv: "nameserver 10.0.2.3\nsearch a.test b.test\noptions ndots:2\n",
			wantOwn:    "127.0.1.1\tweb\n",
		},
		{
			name:       "search dot removes search",
			opts:       EtcOptions{Hostname: "web", HostResolvConf: resolv, Nameservers: []string{"10.0.2.3"}, DNSSearch: []string{"."}},
			wantResolv: "nameserver 10.0.2.3\noptions edns0\n",
			wantOwn:    "127.0.1.1\tweb\n",
		},
		{
			name:       "search in place of the host's",
			opts:       EtcOptions{Hostname: "web", HostResolvConf: resolv, Nameservers: []string{"10.0.2.3"}, DNSSearch: []string{"a.test", "."}},
			wantResolv: "nameserver 10.0.2.3\nsearch a.test\noptions edns0\n",
			wantOwn:    "127.0.1.1\tweb\n",
		},
		{
			name:       "no host file",
			opts:       EtcOptions{Hostname: "web", HostResolvConf: filepath.Join(dir, "missing"), Nameservers: []string{"169.254.1.1"}},
			wantResolv: "nameserver 169.254.1.1\n",
			wantOwn:    "127.0.1.1\tweb\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := EtcFiles(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			byPath := map[string][]byte{}
			for _, f := range files {
				byPath[f.Destination] = f.Data
			}
			if got := byPath["/etc/resolv.conf"]; string(got) != tt.wantResolv {
				t.Errorf("resolv.conf = %q, want %q", got, tt.wantResolv)
			}
			hosts := byPath["/etc/hosts"]
			if !strings.HasSuffix(string(hosts), tt.wantOwn) {
				t.Errorf("hosts = %q, want it to end with %q", hosts, tt.wantOwn)
			}
		})
	}
}

func TestEtcFilesHostGateway(t *testing.T) {
	tests := []struct {
		name string
		opts EtcOptions
		want string
	}{
		{"gateway", EtcOptions{Gateway: "10.0.2.2"}, "10.0.2.2\tgw\n"},
		{"host network", EtcOptions{HostNetwork: true, Gateway: "10.0.2.2"}, "127.0.0.1\tgw\n"},
		{"no gateway", EtcOptions{}, "127.0.0.1\tgw\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Hostname = "web"
			tt.opts.HostResolvConf = filepath.Join(t.TempDir(), "missing")
			tt.opts.ExtraHosts = []string{"gw:" + HostGateway}
			files, err := EtcFiles(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if hosts := string(files[0].Data); !strings.Contains(hosts, tt.want) {
				t.Errorf("/etc/hosts = %q, want the line %q", hosts, tt.want)
			}
		})
	}
}

func TestEtcFilesHostNetworkHosts(t *testing.T) {
	dir := t.TempDir()
	hostHosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hostHosts, []byte("127.0.0.1\tlocalhost\n192.0.2.7\tbuildhost"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := EtcOptions{Hostname: "web", HostResolvConf: filepath.Join(dir, "missing"), HostHosts: hostHosts, ExtraHosts: []string{"db:192.0.2.9"}}
	tests := []struct {
		name        string
		hostNetwork bool
		want        string
	}{
		{"host network copies the host's file", true, "127.0.0.1\tlocalhost\n192.0.2.7\tbuildhost\n192.0.2.9\tdb\n127.0.1.1\tweb\n"},
		{"own network ignores it", false, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n192.0.2.9\tdb\n127.0.1.1\tweb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			opts.HostNetwork = tt.hostNetwork
			files, err := EtcFiles(opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(files[0].Data); got != tt.want {
				t.Errorf("/etc/hosts = %q, want %q", got, tt.want)
			}
		})
	}
}
