package netstack

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/gocker/gocker/hostcheck"
	"github.com/google/go-cmp/cmp"
)

const charDevice = fs.ModeDevice | fs.ModeCharDevice

func TestTunResult(t *testing.T) {
	sudoUdev := AdminAccess{Sudo: true, Udev: true}
	chmodFix := []string{
		"sudo chmod 0666 /dev/net/tun",
		`echo 'KERNEL=="tun", MODE="0666"' | sudo tee /etc/udev/rules.d/70-gocker-tun.rules`,
	}
	tests := []struct {
		name       string
		state      TunState
		wantStatus hostcheck.Status
		wantDetail string
		wantFix    []string
	}{
		{
			name:       "debian default 0666",
			state:      TunState{Rootless: true, User: "gtest", Exists: true, Mode: charDevice | 0o666, Owner: "root", Group: "root"},
			wantStatus: hostcheck.OK,
			wantDetail: "/dev/net/tun is crw-rw-rw- root:root, opened read-write",
		},
		{
			name: "0600 root for a user",
			state: TunState{Rootless: true, User: "gtest", Exists: true, Mode: charDevice | 0o600, Owner: "root", Group: "root",
				OpenErr: syscall.EACCES, Admin: sudoUdev},
			wantStatus: hostcheck.Fail,
			wantDetail: "/dev/net/tun is crw------- root:root, and opening it as gtest failed with permission denied, so slirp4netns and pasta cannot give containers a network",
			wantFix:    chmodFix,
		},
		{
			name:       "0600 root for root",
			state:      TunState{User: "root", Exists: true, Mode: charDevice | 0o600, Owner: "root", Group: "root"},
			wantStatus: hostcheck.OK,
			wantDetail: "/dev/net/tun is crw------- root:root, opened read-write",
		},
		{
			name:       "group access through membership",
			state:      TunState{Rootless: true, User: "gtest", Exists: true, Mode: charDevice | 0o660, Owner: "root", Group: "netdev"},
			wantStatus: hostcheck.OK,
			wantDetail: "/dev/net/tun is crw-rw---- root:netdev, opened read-write",
		},
		{
			name: "group access without membership",
			state: TunState{Rootless: true, User: "gtest", Exists: true, Mode: charDevice | 0o660, Owner: "root", Group: "netdev",
				OpenErr: syscall.EACCES, Admin: sudoUdev},
			wantStatus: hostcheck.Fail,
			wantDetail: "/dev/net/tun is crw-rw---- root:netdev, and opening it as gtest failed with permission denied, so slirp4netns and pasta cannot give containers a network",
			wantFix:    chmodFix,
		},
		{
			name: "device cgroup denies a 0666 node",
			state: TunState{Rootless: true, User: "runner", Exists: true, Mode: charDevice | 0o666, Owner: "root", Group: "root",
				OpenErr: syscall.EPERM},
			wantStatus: hostcheck.Fail,
			wantDetail: "/dev/net/tun is crw-rw-rw- root:root, but opening it failed with operation not permitted, so a device cgroup or security module denies it",
			wantFix:    []string{"# inside a container, start it with --device /dev/net/tun"},
		},
		{
			name:       "missing for a user",
			state:      TunState{Rootless: true, User: "gtest", Admin: sudoUdev},
			wantStatus: hostcheck.Fail,
			wantDetail: "/dev/net/tun does not exist",
			wantFix:    []string{"sudo modprobe tun", "# inside a container, start it with --device /dev/net/tun"},
		},
		{
			name:       "missing for root",
			state:      TunState{User: "root", Admin: AdminAccess{Udev: true}},
			wantStatus: hostcheck.Warn,
			wantDetail: "/dev/net/tun does not exist",
			wantFix:    []string{"# as root: modprobe tun", "# inside a container, start it with --device /dev/net/tun"},
		},
		{
			name:       "regular file",
			state:      TunState{Rootless: true, User: "gtest", Exists: true, Mode: 0o644, Owner: "root", Group: "root", Admin: sudoUdev},
			wantStatus: hostcheck.Fail,
			wantDetail: "/dev/net/tun is -rw-r--r-- root:root, not a character device",
			wantFix:    []string{"# remove it and load the tun module", "sudo rm /dev/net/tun", "sudo modprobe tun"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TunResult(tt.state)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if got.Detail != tt.wantDetail {
				t.Errorf("detail = %q\nwant     %q", got.Detail, tt.wantDetail)
			}
			if diff := cmp.Diff(tt.wantFix, got.Fix); diff != "" {
				t.Errorf("fix (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTunModeFix(t *testing.T) {
	udevRule := `echo 'KERNEL=="tun", MODE="0666"' | sudo tee /etc/udev/rules.d/70-gocker-tun.rules`
	noUdev := "# this host runs no udev, so the mode resets at reboot: set it in the boot scripts"
	tests := []struct {
		name  string
		admin AdminAccess
		want  []string
	}{
		{"sudo and udev", AdminAccess{Sudo: true, Udev: true}, []string{"sudo chmod 0666 /dev/net/tun", udevRule}},
		{"udev without sudo", AdminAccess{Udev: true}, []string{
			"# as root: chmod 0666 /dev/net/tun",
			`# as root: echo 'KERNEL=="tun", MODE="0666"' > /etc/udev/rules.d/70-gocker-tun.rules`,
		}},
		{"sudo without udev", AdminAccess{Sudo: true}, []string{"sudo chmod 0666 /dev/net/tun", noUdev}},
		{"neither", AdminAccess{}, []string{"# as root: chmod 0666 /dev/net/tun", noUdev}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, TunModeFix(tt.admin)); diff != "" {
				t.Errorf("fix (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewAdminAccess(t *testing.T) {
	tests := []struct {
		name               string
		sudoOnPath         bool
		euid               int
		runUdev, udevRules bool
		want               AdminAccess
	}{
		{"user with sudo and udev", true, 1000, true, true, AdminAccess{Sudo: true, Udev: true}},
		{"root with sudo", true, 0, false, false, AdminAccess{}},
		{"user without sudo", false, 1000, false, false, AdminAccess{}},
		{"udev rules directory only", false, 1000, false, true, AdminAccess{Udev: true}},
		{"udev runtime directory only", false, 1000, true, false, AdminAccess{Udev: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewAdminAccess(tt.sudoOnPath, tt.euid, tt.runUdev, tt.udevRules); got != tt.want {
				t.Errorf("NewAdminAccess = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTunResultWithoutSudoOrUdev(t *testing.T) {
	state := TunState{Rootless: true, User: "gtest", Exists: true, Mode: charDevice | 0o600, Owner: "root", Group: "root",
		OpenErr: syscall.EACCES}
	for _, line := range TunResult(state).Fix {
		if strings.Contains(line, "sudo") {
			t.Errorf("fix line %q uses sudo, which this host lacks", line)
		}
		if strings.Contains(line, "udev/rules.d") {
			t.Errorf("fix line %q writes a udev rule, but this host runs no udev", line)
		}
	}
}

func TestToolResults(t *testing.T) {
	slirp := ToolState{Name: "slirp4netns", Package: "slirp4netns", Path: "/usr/bin/slirp4netns", Version: "slirp4netns version 1.2.0"}
	pasta := ToolState{Name: "pasta", Package: "passt", Path: "/usr/bin/pasta", Version: "pasta 2024_03_20.6b38f07"}
	noSlirp := ToolState{Name: "slirp4netns", Package: "slirp4netns"}
	noPasta := ToolState{Name: "pasta", Package: "passt"}
	// Debian's passt 0.0~git20230309.7c7625d-1 prints no version.
	debianPasta := pasta
	debianPasta.Version = "pasta unknown version"
	debianPasta.DebianPackage = "passt 0.0~git20230309.7c7625d-1"
	builtPasta := debianPasta
	builtPasta.Path = "/usr/local/bin/pasta"
	builtPasta.DebianPackage = ""
	brokenPasta := pasta
	brokenPasta.VersionErr = errors.New("exit status 1: error while loading shared libraries")
	installBoth := []string{"sudo apt-get install slirp4netns passt"}
	tests := []struct {
		name     string
		tools    []ToolState
		rootless bool
		want     []hostcheck.Result
	}{
		{
			name: "both installed", tools: []ToolState{slirp, pasta}, rootless: true,
			want: []hostcheck.Result{
				{Check: "slirp4netns", Status: hostcheck.OK, Detail: "/usr/bin/slirp4netns, slirp4netns version 1.2.0"},
				{Check: "pasta", Status: hostcheck.OK, Detail: "/usr/bin/pasta, pasta 2024_03_20.6b38f07"},
			},
		},
		{
			name: "only pasta", tools: []ToolState{noSlirp, pasta}, rootless: true,
			want: []hostcheck.Result{
				{Check: "slirp4netns", Status: hostcheck.Info, Detail: "not installed; pasta is enough"},
				{Check: "pasta", Status: hostcheck.OK, Detail: "/usr/bin/pasta, pasta 2024_03_20.6b38f07"},
			},
		},
		{
			name: "neither for a user", tools: []ToolState{noSlirp, noPasta}, rootless: true,
			want: []hostcheck.Result{
				{Check: "slirp4netns", Status: hostcheck.Fail, Detail: "not installed, and rootless networking needs slirp4netns or pasta (--network host and --network none need neither)", Fix: installBoth},
				{Check: "pasta", Status: hostcheck.Fail, Detail: "not installed, and rootless networking needs slirp4netns or pasta (--network host and --network none need neither)", Fix: installBoth},
			},
		},
		{
			name: "neither for root", tools: []ToolState{noSlirp, noPasta}, rootless: false,
			want: []hostcheck.Result{
				{Check: "slirp4netns", Status: hostcheck.Warn, Detail: "not installed, and rootless networking needs slirp4netns or pasta (--network host and --network none need neither)", Fix: installBoth},
				{Check: "pasta", Status: hostcheck.Warn, Detail: "not installed, and rootless networking needs slirp4netns or pasta (--network host and --network none need neither)", Fix: installBoth},
			},
		},
		{
			name: "pasta without a version string", tools: []ToolState{slirp, debianPasta}, rootless: true,
			want: []hostcheck.Result{
				{Check: "slirp4netns", Status: hostcheck.OK, Detail: "/usr/bin/slirp4netns, slirp4netns version 1.2.0"},
				{Check: "pasta", Status: hostcheck.OK, Detail: `/usr/bin/pasta, Debian package passt 0.0~git20230309.7c7625d-1 (pasta --version prints "pasta unknown version")`},
			},
		},
		{
			name: "pasta without a version or package", tools: []ToolState{slirp, builtPasta}, rootless: true,
			want: []hostcheck.Result{
				{Check: "slirp4netns", Status: hostcheck.OK, Detail: "/usr/bin/slirp4netns, slirp4netns version 1.2.0"},
				{Check: "pasta", Status: hostcheck.OK, Detail: "/usr/local/bin/pasta, pasta unknown version"},
			},
		},
		{
			name: "pasta does not run", tools: []ToolState{slirp, brokenPasta}, rootless: true,
			want: []hostcheck.Result{
				{Check: "slirp4netns", Status: hostcheck.OK, Detail: "/usr/bin/slirp4netns, slirp4netns version 1.2.0"},
				{Check: "pasta", Status: hostcheck.Warn, Detail: "/usr/bin/pasta --version failed: exit status 1: error while loading shared libraries", Fix: []string{"sudo apt-get install --reinstall passt"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ToolResults(tt.tools, tt.rootless)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct {
		name, output, want string
	}{
		{name: "slirp4netns", output: "slirp4netns version 1.2.0\ncommit: 656041d\nlibslirp: 4.7.0\n", want: "slirp4netns version 1.2.0"},
		{name: "pasta", output: "pasta unknown version\nCopyright Red Hat\n", want: "pasta unknown version"},
		{name: "leading blank line", output: "\n  pasta 2024_03_20 \n", want: "pasta 2024_03_20"},
		{name: "empty", output: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FirstLine(tt.output); got != tt.want {
				t.Errorf("FirstLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPortsResult(t *testing.T) {
	const name = "net.ipv4.ip_unprivileged_port_start"
	tests := []struct {
		name     string
		sysctl   hostcheck.Sysctl
		rootless bool
		want     string
	}{
		{name: "default for a user", sysctl: hostcheck.Sysctl{Name: name, Value: 1024, Present: true}, rootless: true,
			want: "gtest can publish host ports 1024 and above; lower ports need root or a lower net.ipv4.ip_unprivileged_port_start"},
		{name: "lowered to 80", sysctl: hostcheck.Sysctl{Name: name, Value: 80, Present: true}, rootless: true,
			want: "gtest can publish host ports 80 and above; lower ports need root or a lower net.ipv4.ip_unprivileged_port_start"},
		{name: "zero", sysctl: hostcheck.Sysctl{Name: name, Value: 0, Present: true}, rootless: true,
			want: "gtest can publish any host port (net.ipv4.ip_unprivileged_port_start = 0)"},
		{name: "root", sysctl: hostcheck.Sysctl{Name: name, Value: 1024, Present: true},
			want: "root can publish any host port; unprivileged users can publish 1024 and above (net.ipv4.ip_unprivileged_port_start)"},
		{name: "old kernel", sysctl: hostcheck.Sysctl{Name: name}, rootless: true,
			want: "the kernel has no net.ipv4.ip_unprivileged_port_start (added in Linux 4.11), so only root can publish host ports below 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PortsResult(tt.sysctl, tt.rootless, "gtest")
			if got.Status != hostcheck.Info {
				t.Errorf("status = %s, want info", got.Status)
			}
			if got.Detail != tt.want {
				t.Errorf("detail = %q\nwant     %q", got.Detail, tt.want)
			}
		})
	}
}

func TestLsMode(t *testing.T) {
	if got := lsMode(charDevice | 0o600); got != "crw-------" {
		t.Errorf("lsMode = %q, want crw-------", got)
	}
	if got := lsMode(fs.ModeDir | 0o755); !strings.HasPrefix(got, "d") {
		t.Errorf("lsMode of a directory = %q, want a leading d", got)
	}
}

func TestParseDpkgSearch(t *testing.T) {
	tests := []struct {
		name, output, want string
	}{
		{name: "one package", output: "passt: /usr/bin/pasta\n", want: "passt"},
		{name: "architecture qualified", output: "libc6:amd64: /usr/lib/x86_64-linux-gnu/libc.so.6\n", want: "libc6:amd64"},
		{name: "several packages", output: "pkg-a, pkg-b: /usr/share/doc/x\n", want: "pkg-a"},
		{
			name:   "diversion first",
			output: "diversion by dash from: /bin/sh\ndiversion by dash to: /bin/sh.distrib\ndash: /bin/sh\n",
			want:   "dash",
		},
		{name: "no package", output: "dpkg-query: no path found matching pattern /usr/local/bin/pasta\n", want: ""},
		{name: "empty", output: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseDpkgSearch(tt.output); got != tt.want {
				t.Errorf("ParseDpkgSearch(%q) = %q, want %q", tt.output, got, tt.want)
			}
		})
	}
}

func TestNsenterResult(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		rootless   bool
		wantStatus hostcheck.Status
		wantFix    []string
	}{
		{name: "installed", path: "/usr/bin/nsenter", rootless: true, wantStatus: hostcheck.OK},
		{name: "missing for a user", rootless: true, wantStatus: hostcheck.Warn, wantFix: []string{"sudo apt-get install util-linux"}},
		{name: "missing for root", wantStatus: hostcheck.Info},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NsenterResult(tt.path, tt.rootless)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s (detail %q)", got.Status, tt.wantStatus, got.Detail)
			}
			if diff := cmp.Diff(tt.wantFix, got.Fix); diff != "" {
				t.Errorf("fix (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNftablesResult(t *testing.T) {
	tests := []struct {
		name       string
		state      NftablesState
		wantStatus hostcheck.Status
		wantDetail string
		wantFix    bool
	}{
		{name: "root with tables", state: NftablesState{Tables: 3}, wantStatus: hostcheck.OK, wantDetail: "nf_tables listed 3 tables in this network namespace"},
		{
			name:       "root without nf_tables",
			state:      NftablesState{Err: hostcheck.ErrnoError(syscall.EOPNOTSUPP)},
			wantStatus: hostcheck.Warn,
			wantDetail: "listing nftables tables failed: ENOTSUP (operation not supported), so root's default bridge network cannot start; --network host and --network none still work",
			wantFix:    true,
		},
		{name: "user", state: NftablesState{Rootless: true}, wantStatus: hostcheck.Info, wantDetail: "not needed: only root's bridge network uses nf_tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NftablesResult(tt.state)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if got.Detail != tt.wantDetail {
				t.Errorf("detail = %q\nwant     %q", got.Detail, tt.wantDetail)
			}
			if (len(got.Fix) > 0) != tt.wantFix {
				t.Errorf("fix = %q, want a fix: %v", got.Fix, tt.wantFix)
			}
		})
	}
}

func TestSocketFilterResult(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		rootless bool
		want     string
	}{
		{"allowed", nil, true, "allowed"},
		{"rejected for users", errFilterRejected, true, "allow_host_loopback=true"},
		{"other failure", syscall.ENOMEM, false, "attaching a socket filter failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := SocketFilterResult(tt.err, tt.rootless)
			if res.Check != "socket-filter" || res.Status != hostcheck.Info {
				t.Errorf("check %q status %v, want socket-filter info", res.Check, res.Status)
			}
			if !strings.Contains(res.Detail, tt.want) {
				t.Errorf("detail %q does not contain %q", res.Detail, tt.want)
			}
		})
	}
}
