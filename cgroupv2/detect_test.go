package cgroupv2

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestModeFromMagic(t *testing.T) {
	const ext4 = 0xEF53
	tests := []struct {
		name          string
		root, unified int64
		want          Mode
	}{
		{name: "unified", root: magicCgroup2, want: ModeUnified},
		{name: "unified ignores a stray unified dir", root: magicCgroup2, unified: magicCgroup2, want: ModeUnified},
		{name: "hybrid", root: magicTmpfs, unified: magicCgroup2, want: ModeHybrid},
		{name: "legacy without unified", root: magicTmpfs, want: ModeLegacy},
		{name: "legacy with unified on tmpfs", root: magicTmpfs, unified: magicTmpfs, want: ModeLegacy},
		{name: "not mounted", root: ext4, want: ModeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ModeFromMagic(tt.root, tt.unified); got != tt.want {
				t.Errorf("ModeFromMagic(%#x, %#x) = %v, want %v", tt.root, tt.unified, got, tt.want)
			}
		})
	}
}

func TestParseProcCgroup(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		wantUnified string
		wantMemory  string
		wantV1      []string
		wantErr     string
	}{
		{
			name:        "unified",
			input:       "0::/user.slice/user-1000.slice/session-2.scope\n",
			wantUnified: "/user.slice/user-1000.slice/session-2.scope",
		},
		{
			name: "hybrid",
			input: "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n" +
				"4:memory:/process_api/cbdc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n",
			wantUnified: "/",
			wantMemory:  "/process_api/cbdc",
			wantV1:      []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"},
		},
		{
			name:       "legacy with joined controllers",
			input:      "3:cpu,cpuacct:/docker/abc\n2:memory:/docker/abc\n1:name=systemd:/docker/abc\n",
			wantMemory: "/docker/abc",
			wantV1:     []string{"cpu", "cpuacct", "memory"},
		},
		{
			name:        "path with a colon",
			input:       "0::/user.slice/odd:name.scope\n",
			wantUnified: "/user.slice/odd:name.scope",
		},
		{name: "missing path", input: "0::\n", wantErr: "line 1"},
		{name: "bad id", input: "0::/\nx:cpu:/\n", wantErr: "line 2"},
		{name: "two fields", input: "4:memory\n", wantErr: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := ParseProcCgroup(strings.NewReader(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := UnifiedPath(entries); got != tt.wantUnified {
				t.Errorf("UnifiedPath = %q, want %q", got, tt.wantUnified)
			}
			if got, _ := V1Path(entries, "memory"); got != tt.wantMemory {
				t.Errorf("V1Path(memory) = %q, want %q", got, tt.wantMemory)
			}
			if diff := cmp.Diff(tt.wantV1, V1Controllers(entries)); diff != "" {
				t.Errorf("V1Controllers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseControllersAndMissing(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		wantMissing []string
	}{
		{name: "systemd 255 default delegation", input: "cpu memory pids\n", wantMissing: nil},
		{name: "full delegation", input: "cpuset cpu io memory hugetlb pids rdma misc\n", wantMissing: nil},
		{name: "memory and pids only", input: "memory pids\n", wantMissing: []string{"cpu"}},
		{name: "hybrid unified hierarchy", input: "hugetlb\n", wantMissing: []string{"cpu", "memory", "pids"}},
		{name: "empty file", input: "", wantMissing: []string{"cpu", "memory", "pids"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			have, err := ParseControllers(strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantMissing, MissingControllers(have, LimitControllers)); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
}
