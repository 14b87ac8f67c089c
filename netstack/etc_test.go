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

func TestWriteEtcFiles(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "host-resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.53\nnameserver 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := WriteEtcFiles(dir, EtcOptions{Hostname: "web", HostResolvConf: resolv, ExtraHosts: []string{"db:192.0.2.9"}})
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
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != want[f.Destination] {
			t.Errorf("%s = %q, want %q", f.Destination, data, want[f.Destination])
		}
	}
}
