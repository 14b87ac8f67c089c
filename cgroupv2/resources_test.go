package cgroupv2

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "64m", want: 64 << 20},
		{in: "64M", want: 64 << 20},
		{in: "64mb", want: 64 << 20},
		{in: "64MiB", want: 64 << 20},
		{in: "1g", want: 1 << 30},
		{in: "1.5g", want: 3 << 29},
		{in: "512k", want: 512 << 10},
		{in: "100", want: 100},
		{in: "100b", want: 100},
		{in: "0.5k", want: 512},
		{in: "", wantErr: "is not a size"},
		{in: "64x", wantErr: "is not a size"},
		{in: "-64m", wantErr: "is not a size"},
		{in: "m", wantErr: "is not a size"},
		{in: "99999999999t", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMemory(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMemory(%q) = %d, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseMemory(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseMemorySwapUnlimited(t *testing.T) {
	if got, err := ParseMemorySwap("-1"); err != nil || got != -1 {
		t.Errorf("ParseMemorySwap(-1) = %d, %v; want -1", got, err)
	}
	if _, err := ParseMemorySwap("-2"); err == nil {
		t.Error("ParseMemorySwap(-2) succeeded")
	}
}

func TestParseCPUs(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "0.5", want: 5e8},
		{in: "2", want: 2e9},
		{in: "1.25", want: 1.25e9},
		{in: "0.000000001", want: 1},
		{in: "0.0000000001", wantErr: true},
		{in: "1/2", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "half", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCPUs(tt.in)
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("ParseCPUs(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCPUList(t *testing.T) {
	got, err := ParseCPUList("4,0-2,2\n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 1, 2, 4}, got); diff != "" {
		t.Errorf("ParseCPUList (-want +got):\n%s", diff)
	}
	if s := FormatCPUList(got); s != "0-2,4" {
		t.Errorf("FormatCPUList = %q, want 0-2,4", s)
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "0-", "1,,2", "0-99999"} {
		if _, err := ParseCPUList(bad); err == nil {
			t.Errorf("ParseCPUList(%q) succeeded", bad)
		}
	}
}

func TestCPUWeight(t *testing.T) {
	// The linear mapping of runc and crun: 2 → 1, 1024 → 39, 262144 → 10000.
	for shares, want := range map[int64]uint64{2: 1, 512: 20, 1024: 39, 262144: 10000} {
		if got := CPUWeight(shares); got != want {
			t.Errorf("CPUWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	online := []int{0, 1}
	tests := []struct {
		name    string
		r       Resources
		wantErr string
	}{
		{name: "no limits", r: Resources{}},
		{name: "all limits", r: Resources{Memory: 64 << 20, MemorySwap: 128 << 20, NanoCPUs: 5e8, CPUShares: 512, CpusetCpus: "0-1", PidsLimit: 32}},
		{name: "unlimited swap", r: Resources{Memory: 64 << 20, MemorySwap: -1}},
		{name: "memory below minimum", r: Resources{Memory: 4 << 20}, wantErr: "invalid --memory 4m: the minimum is 6m"},
		{name: "swap without memory", r: Resources{MemorySwap: 128 << 20}, wantErr: "invalid --memory-swap 128m: it limits memory plus swap, so it needs --memory too"},
		{name: "swap below memory", r: Resources{Memory: 64 << 20, MemorySwap: 32 << 20}, wantErr: "invalid --memory-swap 32m: it is memory plus swap and must be at least --memory 64m"},
		{name: "swap below -1", r: Resources{Memory: 64 << 20, MemorySwap: -2}, wantErr: "invalid --memory-swap -2"},
		{name: "too many cpus", r: Resources{NanoCPUs: 999e9}, wantErr: "invalid --cpus 999: this host has 2 CPUs online, so use at most 2"},
		{name: "too many fractional cpus", r: Resources{NanoCPUs: 2.5e9}, wantErr: "invalid --cpus 2.5: this host has 2 CPUs online, so use at most 2"},
		{name: "too few cpus", r: Resources{NanoCPUs: 1e6}, wantErr: "invalid --cpus 0.001: the minimum is 0.01"},
		{name: "negative cpus", r: Resources{NanoCPUs: -1e9}, wantErr: "invalid --cpus -1: it must be positive"},
		{name: "shares too low", r: Resources{CPUShares: 1}, wantErr: "invalid --cpu-shares 1: use 2 to 262144"},
		{name: "shares too high", r: Resources{CPUShares: 300000}, wantErr: "invalid --cpu-shares 300000"},
		{name: "cpuset offline", r: Resources{CpusetCpus: "0-3"}, wantErr: `invalid --cpuset-cpus "0-3": CPU 2 is not online (online: 0-1)`},
		{name: "cpuset malformed", r: Resources{CpusetCpus: "0-x"}, wantErr: `invalid --cpuset-cpus "0-x"`},
		{name: "pids below -1", r: Resources{PidsLimit: -5}, wantErr: "invalid --pids-limit -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate(online)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error starting with %q", err, tt.wantErr)
			}
		})
	}
}

func TestSwapLimit(t *testing.T) {
	tests := []struct {
		name                    string
		r                       Resources
		swap                    int64
		unlimited, wantExplicit bool
	}{
		{name: "default is as much swap as memory", r: Resources{Memory: 64 << 20}, swap: 64 << 20},
		{name: "memory-swap is the total", r: Resources{Memory: 64 << 20, MemorySwap: 96 << 20}, swap: 32 << 20, wantExplicit: true},
		{name: "no swap", r: Resources{Memory: 64 << 20, MemorySwap: 64 << 20}, swap: 0, wantExplicit: true},
		{name: "unlimited", r: Resources{Memory: 64 << 20, MemorySwap: -1}, unlimited: true, wantExplicit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			swap, unlimited, explicit := tt.r.SwapLimit()
			if swap != tt.swap || unlimited != tt.unlimited || explicit != tt.wantExplicit {
				t.Errorf("SwapLimit = %d, %v, %v; want %d, %v, %v", swap, unlimited, explicit, tt.swap, tt.unlimited, tt.wantExplicit)
			}
		})
	}
}

func TestV1Writes(t *testing.T) {
	r := Resources{Memory: 64 << 20, NanoCPUs: 5e8, CPUShares: 512, CpusetCpus: "1", PidsLimit: 32}
	tests := []struct {
		controller string
		want       []write
	}{
		{"memory", []write{{"memory.limit_in_bytes", "67108864"}, {"memory.memsw.limit_in_bytes", "134217728"}}},
		{"cpu", []write{{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", "50000"}, {"cpu.shares", "512"}}},
		{"cpuset", []write{{"cpuset.cpus", "1"}}},
		{"pids", []write{{"pids.max", "32"}}},
		{"cpuacct", nil},
	}
	for _, tt := range tests {
		t.Run(tt.controller, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, V1Writes(tt.controller, r), cmp.AllowUnexported(write{})); diff != "" {
				t.Errorf("V1Writes (-want +got):\n%s", diff)
			}
		})
	}
	unlimited := V1Writes("memory", Resources{Memory: 64 << 20, MemorySwap: -1})
	if unlimited[1].value != "-1" {
		t.Errorf("memsw with --memory-swap -1 = %q, want -1", unlimited[1].value)
	}
	if got := V1Writes("pids", Resources{PidsLimit: -1}); len(got) != 1 || got[0].value != "max" {
		t.Errorf("pids with -1 = %v, want pids.max max", got)
	}
}

func TestControllers(t *testing.T) {
	r := Resources{CPUShares: 2, MemorySwap: -1, PidsLimit: 1, CpusetCpus: "0"}
	if diff := cmp.Diff([]string{"cpu", "cpuset", "memory", "pids"}, r.Controllers()); diff != "" {
		t.Errorf("Controllers (-want +got):\n%s", diff)
	}
	if (Resources{}).Limited() {
		t.Error("empty Resources are Limited")
	}
}

func TestCheckSupport(t *testing.T) {
	memory := Resources{Memory: 64 << 20}
	tests := []struct {
		name      string
		state     State
		r         Resources
		wantFlags string
		wantIn    []string
	}{
		{
			name:      "rootless on hybrid with systemd",
			state:     State{Mode: ModeHybrid, Rootless: true, User: "gtest", UID: 1001, SystemdBooted: true, GrubDefaults: true},
			r:         Resources{Memory: 64 << 20, PidsLimit: 10},
			wantFlags: "--memory and --pids-limit",
			wantIn:    []string{"cgroup v1 (hybrid mode)", "systemd.unified_cgroup_hierarchy=1", "sudo update-grub"},
		},
		{
			name:      "cpuset not delegated",
			state:     rootlessV2("cpu", "memory", "pids"),
			r:         Resources{CpusetCpus: "0", Memory: 64 << 20},
			wantFlags: "--cpuset-cpus",
			wantIn:    []string{"the cpuset controller is not delegated to gtest", "Delegate=cpu cpuset io memory pids", "systemctl daemon-reload"},
		},
		{
			name:      "no user bus",
			state:     func() State { s := rootlessV2("cpu", "memory", "pids"); s.BusExists = false; return s }(),
			r:         memory,
			wantFlags: "--memory",
			wantIn:    []string{"no user D-Bus at /run/user/1001/bus", "sudo loginctl enable-linger gtest"},
		},
		{
			name:      "root on hybrid without pids",
			state:     State{Mode: ModeHybrid, User: "root", Controllers: []string{"cpu", "memory"}, ControllersFrom: "/proc/self/cgroup", Delegated: true},
			r:         Resources{PidsLimit: 5},
			wantFlags: "--pids-limit",
			wantIn:    []string{"the pids controller is missing from /proc/self/cgroup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSupport(tt.state, tt.r)
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("CheckSupport = %v, want an *UnsupportedError", err)
			}
			if ue.Flags != tt.wantFlags {
				t.Errorf("flags = %q, want %q", ue.Flags, tt.wantFlags)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
	if err := CheckSupport(rootlessV2("cpu", "memory", "pids"), Resources{Memory: 64 << 20, NanoCPUs: 1e9, PidsLimit: 5}); err != nil {
		t.Errorf("CheckSupport with delegated controllers: %v", err)
	}
	if err := CheckSupport(State{Mode: ModeHybrid, Rootless: true}, Resources{}); err != nil {
		t.Errorf("CheckSupport without limits: %v", err)
	}
}
