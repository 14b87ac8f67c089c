package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gocker/gocker/netstack"
)

func TestTunOpenErrorFix(t *testing.T) {
	tests := []struct {
		name    string
		admin   netstack.AdminAccess
		want    string
		notWant string
	}{
		{"sudo", netstack.AdminAccess{Sudo: true, Udev: true}, "(sudo chmod 0666 /dev/net/tun,", "as root"},
		{"no sudo", netstack.AdminAccess{}, "(as root: chmod 0666 /dev/net/tun,", "sudo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tunOpenError("slirp4netns", syscall.EACCES, tt.admin).Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(msg, tt.notWant) {
				t.Errorf("message %q contains %q", msg, tt.notWant)
			}
			if !strings.Contains(msg, "--network none") {
				t.Errorf("message %q does not offer --network none", msg)
			}
		})
	}
}

func TestRuntimeStateDir(t *testing.T) {
	userTempDir := filepath.Join(os.TempDir(), "gocker-1001")
	tests := []struct {
		name         string
		gockerDir    string
		xdgDir       string
		rootless     bool
		wantDir      string
		wantUserTemp bool
		wantErr      bool
	}{
		{name: "root", wantDir: "/run/gocker"},
		{name: "root with the variable", gockerDir: "/tmp/x", wantDir: "/tmp/x"},
		{name: "root with a relative variable", gockerDir: "run", wantErr: true},
		{name: "user", xdgDir: "/run/user/1001", rootless: true, wantDir: "/run/user/1001/gocker"},
		{name: "user with the variable", gockerDir: "/tmp/x", xdgDir: "/run/user/1001", rootless: true, wantDir: "/tmp/x"},
		{name: "user without XDG_RUNTIME_DIR", rootless: true, wantDir: userTempDir, wantUserTemp: true},
		{name: "user with a relative XDG_RUNTIME_DIR", xdgDir: "run", rootless: true, wantDir: userTempDir, wantUserTemp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, userTemp, err := runtimeStateDir(tt.gockerDir, tt.xdgDir, tt.rootless, 1001)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want one: %v", err, tt.wantErr)
			}
			if dir != tt.wantDir {
				t.Errorf("dir = %q, want %q", dir, tt.wantDir)
			}
			if userTemp != tt.wantUserTemp {
				t.Errorf("userTemp = %v, want %v", userTemp, tt.wantUserTemp)
			}
		})
	}
}

func TestParseExtraHosts(t *testing.T) {
	tests := []struct {
		value   string
		want    string
		wantErr string
	}{
		{value: "db:192.0.2.9", want: "db:192.0.2.9"},
		{value: "db=192.0.2.9", want: "db:192.0.2.9"},
		{value: "v6:fd00::5", want: "v6:fd00::5"},
		{value: "v6=fd00::5", want: "v6:fd00::5"},
		{value: "v6:[fd00::5]", want: "v6:fd00::5"},
		{value: "gw:host-gateway", want: "gw:host-gateway"},
		{value: "gw=host-gateway", want: "gw:host-gateway"},
		{value: "nocolon", wantErr: "use NAME:IP or NAME=IP"},
		{value: ":192.0.2.9", wantErr: "use NAME:IP or NAME=IP"},
		{value: "two words:192.0.2.9", wantErr: "white space"},
		{value: "db:db.example", wantErr: "neither an IP address nor host-gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseExtraHosts([]string{tt.value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseExtraHosts(%q) error = %v, want one containing %q", tt.value, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("parseExtraHosts(%q) = %q, want [%q]", tt.value, got, tt.want)
			}
		})
	}
}

func TestParseResolvWords(t *testing.T) {
	if got, err := parseResolvWords("dns-option", []string{"ndots:2", "edns0"}); err != nil || len(got) != 2 {
		t.Errorf("parseResolvWords(ndots:2, edns0) = %q, %v", got, err)
	}
	for _, bad := range []string{"", "a b", "a\nnameserver 192.0.2.1"} {
		_, err := parseResolvWords("dns-search", []string{bad})
		if err == nil || !strings.Contains(err.Error(), "invalid --dns-search") {
			t.Errorf("parseResolvWords(%q) error = %v, want one naming --dns-search", bad, err)
		}
	}
}
