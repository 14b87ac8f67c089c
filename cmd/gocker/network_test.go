package main

import (
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
