package container

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in      string
		want    unix.Signal
		wantErr bool
	}{
		{in: "KILL", want: unix.SIGKILL},
		{in: "SIGTERM", want: unix.SIGTERM},
		{in: "sigusr1", want: unix.SIGUSR1},
		{in: "hup", want: unix.SIGHUP},
		{in: "9", want: unix.SIGKILL},
		{in: "0", wantErr: true},
		{in: "65", wantErr: true},
		{in: "NOPE", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSignal(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseSignal(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseSignal(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}
