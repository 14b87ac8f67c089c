package container

import (
	"testing"
	"time"
)

func TestReconcileState(t *testing.T) {
	started := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	running := State{Status: StatusRunning, Pid: 42, MonitorPid: 41, StartedAt: started}
	restarting := State{Status: StatusRestarting, ExitCode: 3, MonitorPid: 41, StartedAt: started}
	exited := State{Status: StatusExited, ExitCode: 1}
	tests := []struct {
		name         string
		in           State
		monitorAlive bool
		wantStatus   string
		wantCode     int
		wantError    bool
	}{
		{"running with its monitor", running, true, StatusRunning, 0, false},
		{"running without a monitor", running, false, StatusExited, 137, true},
		{"restarting with its monitor", restarting, true, StatusRestarting, 3, false},
		{"restarting without a monitor", restarting, false, StatusExited, 3, true},
		{"exited", exited, false, StatusExited, 1, false},
		{"created", State{Status: StatusCreated}, false, StatusCreated, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reconcileState(tt.in, tt.monitorAlive)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if got.ExitCode != tt.wantCode {
				t.Errorf("exit code = %d, want %d", got.ExitCode, tt.wantCode)
			}
			if (got.Error != "") != tt.wantError {
				t.Errorf("error = %q, want one: %v", got.Error, tt.wantError)
			}
			if got.Status == StatusExited && (got.Pid != 0 || got.MonitorPid != 0) {
				t.Errorf("an exited container keeps pids %d and %d", got.Pid, got.MonitorPid)
			}
			if !got.StartedAt.Equal(tt.in.StartedAt) {
				t.Errorf("StartedAt changed to %v", got.StartedAt)
			}
		})
	}
}
