package container

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocker/gocker/internal/atomicfile"
)

func TestReconcileState(t *testing.T) {
	started := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	running := State{Status: StatusRunning, Pid: 42, MonitorPid: 41, StartedAt: started}
	restarting := State{Status: StatusRestarting, ExitCode: 3, MonitorPid: 41, StartedAt: started}
	exitedAt := started.Add(-time.Hour)
	detected := started.Add(time.Minute)
	exited := State{Status: StatusExited, ExitCode: 1, FinishedAt: exitedAt}
	// A container restarted by a user keeps the FinishedAt of its
	// previous run until it exits again.
	restarted := running
	restarted.FinishedAt = exitedAt
	restartingExit := started.Add(30 * time.Second)
	restartingRecorded := restarting
	restartingRecorded.FinishedAt = restartingExit
	tests := []struct {
		name         string
		in           State
		monitorAlive bool
		detected     time.Time
		wantStatus   string
		wantCode     int
		wantError    bool
		wantFinished time.Time
	}{
		{"running with its monitor", running, true, detected, StatusRunning, 0, false, time.Time{}},
		{"running without a monitor", running, false, detected, StatusExited, 137, true, detected},
		{"restarted without a monitor", restarted, false, detected, StatusExited, 137, true, detected},
		{"detected before the start", running, false, started.Add(-time.Second), StatusExited, 137, true, started},
		{"restarting with its monitor", restarting, true, detected, StatusRestarting, 3, false, time.Time{}},
		{"restarting without a monitor", restarting, false, detected, StatusExited, 3, true, detected},
		{"restarting with its exit recorded", restartingRecorded, false, detected, StatusExited, 3, true, restartingExit},
		{"exited", exited, false, detected, StatusExited, 1, false, exitedAt},
		{"created", State{Status: StatusCreated}, false, detected, StatusCreated, 0, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reconcileState(tt.in, tt.monitorAlive, tt.detected)
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
			if !got.FinishedAt.Equal(tt.wantFinished) {
				t.Errorf("FinishedAt = %v, want %v", got.FinishedAt, tt.wantFinished)
			}
		})
	}
}

func TestReconcilePersistsDeadMonitor(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &Container{ID: strings.Repeat("ab", 32), Name: "orphan"}
	if err := s.Create(c); err != nil {
		t.Fatal(err)
	}
	started := time.Now().UTC().Add(-time.Minute)
	c.State = State{Status: StatusRunning, Pid: 42, MonitorPid: 41, StartedAt: started, FinishedAt: started.Add(-time.Hour)}
	if err := s.SaveState(c); err != nil {
		t.Fatal(err)
	}

	before := time.Now().UTC()
	first, err := s.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC()
	if first.State.Status != StatusExited {
		t.Fatalf("status = %s, want exited", first.State.Status)
	}
	if got := first.State.FinishedAt; got.Before(before) || got.After(after) {
		t.Errorf("FinishedAt = %v, want the time of the first load, between %v and %v", got, before, after)
	}

	var saved State
	if err := atomicfile.ReadJSON(filepath.Join(s.Dir(c.ID), "state.json"), &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Status != StatusExited {
		t.Errorf("stored status = %s, want exited", saved.Status)
	}
	if !saved.FinishedAt.Equal(first.State.FinishedAt) {
		t.Errorf("stored FinishedAt = %v, want %v", saved.FinishedAt, first.State.FinishedAt)
	}

	time.Sleep(10 * time.Millisecond)
	second, err := s.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !second.State.FinishedAt.Equal(first.State.FinishedAt) {
		t.Errorf("FinishedAt of the second load = %v, want %v from the first", second.State.FinishedAt, first.State.FinishedAt)
	}
}
