package hostcheck

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestShellQuote(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{name: "plain path", input: "/usr/local/bin/gocker", want: "/usr/local/bin/gocker"},
		{name: "user name", input: "gtest", want: "gtest"},
		{name: "space", input: "/opt/my tools/gocker", want: "'/opt/my tools/gocker'"},
		{name: "single quote", input: "it's", want: `'it'\''s'`},
		{name: "dollar", input: "$HOME", want: "'$HOME'"},
		{name: "empty", input: "", want: "''"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShellQuote(tt.input); got != tt.want {
				t.Errorf("ShellQuote(%q) = %s, want %s", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseSysctl(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    int64
		wantErr bool
	}{
		{name: "newline", input: "28633\n", want: 28633},
		{name: "zero", input: "0\n", want: 0},
		{name: "no newline", input: "1", want: 1},
		{name: "padded", input: "  1024 \n", want: 1024},
		{name: "empty", input: "", wantErr: true},
		{name: "text", input: "yes\n", wantErr: true},
		{name: "two values", input: "4096 16384\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSysctl(strings.NewReader(tt.input))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseSysctl(%q) = %d, want an error", tt.input, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseSysctl(%q) = %d, want %d", tt.input, got, tt.want)
			}
		})
	}
}

func TestFailedNamesOnlyFailures(t *testing.T) {
	results := []Result{
		{Check: "subids", Status: OK},
		{Check: "tun", Status: Fail},
		{Check: "cgroup-limits", Status: Warn},
		{Check: "overlay", Status: Fail},
		{Check: "cgroup", Status: Info},
	}
	if diff := cmp.Diff([]string{"tun", "overlay"}, Failed(results)); diff != "" {
		t.Errorf("failed checks (-want +got):\n%s", diff)
	}
}
