package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/gocker/gocker/hostcheck"
	"github.com/google/go-cmp/cmp"
)

func TestRuntimeDirResult(t *testing.T) {
	base := runtimeDirState{rootless: true, user: "gtest", uid: 1001, gid: 1001, systemdBooted: true, stateDir: "/tmp/gocker-1001"}
	with := func(change func(*runtimeDirState)) runtimeDirState {
		s := base
		change(&s)
		return s
	}
	tests := []struct {
		name       string
		state      runtimeDirState
		wantStatus hostcheck.Status
		wantFix    []string
	}{
		{
			name: "logind directory",
			state: with(func(s *runtimeDirState) {
				s.dir, s.exists, s.owner, s.mode = "/run/user/1001", true, 1001, fs.ModeDir|0o700
			}),
			wantStatus: hostcheck.OK,
		},
		{
			name:       "unset with a logind directory",
			state:      with(func(s *runtimeDirState) { s.loginDirUsable = true }),
			wantStatus: hostcheck.Info,
		},
		{
			name:       "unset without a login session",
			state:      base,
			wantStatus: hostcheck.Info,
		},
		{
			name:       "unset without systemd",
			state:      with(func(s *runtimeDirState) { s.systemdBooted = false }),
			wantStatus: hostcheck.Info,
		},
		{
			name: "missing directory without systemd",
			state: with(func(s *runtimeDirState) {
				s.dir, s.systemdBooted, s.statErr = "/run/user/1001", false, fs.ErrNotExist
			}),
			wantStatus: hostcheck.Warn,
			wantFix:    []string{"sudo install -d -m 0700 -o 1001 -g 1001 /run/user/1001", "export XDG_RUNTIME_DIR=/run/user/1001"},
		},
		{
			name: "root's directory inherited through su",
			state: with(func(s *runtimeDirState) {
				s.dir, s.exists, s.owner, s.mode, s.loginDirUsable = "/run/user/0", true, 0, fs.ModeDir|0o700, true
			}),
			wantStatus: hostcheck.Warn,
			wantFix:    []string{"export XDG_RUNTIME_DIR=/run/user/1001"},
		},
		{
			name: "too open",
			state: with(func(s *runtimeDirState) {
				s.dir, s.exists, s.owner, s.mode = "/tmp/gtest run", true, 1001, fs.ModeDir|0o755
			}),
			wantStatus: hostcheck.Warn,
			wantFix:    []string{"chmod 0700 '/tmp/gtest run'"},
		},
		{
			name:       "relative path",
			state:      with(func(s *runtimeDirState) { s.dir, s.loginDirUsable = "run", true }),
			wantStatus: hostcheck.Warn,
			wantFix:    []string{"export XDG_RUNTIME_DIR=/run/user/1001"},
		},
		{
			name:       "root",
			state:      runtimeDirState{user: "root", stateDir: "/run/gocker"},
			wantStatus: hostcheck.Info,
		},
		{
			name:       "invalid GOCKER_RUNTIME_DIR",
			state:      with(func(s *runtimeDirState) { s.stateDirErr = errors.New(`invalid $GOCKER_RUNTIME_DIR "run"`) }),
			wantStatus: hostcheck.Warn,
			wantFix:    []string{"unset GOCKER_RUNTIME_DIR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runtimeDirResult(tt.state)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s (detail %q)", got.Status, tt.wantStatus, got.Detail)
			}
			if diff := cmp.Diff(tt.wantFix, got.Fix); diff != "" {
				t.Errorf("fix (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRuntimeDirRootDetail(t *testing.T) {
	tests := []struct {
		name  string
		state runtimeDirState
		want  string
	}{
		{"default", runtimeDirState{stateDir: "/run/gocker"}, "root keeps runtime state in /run/gocker"},
		{"GOCKER_RUNTIME_DIR", runtimeDirState{stateDir: "/tmp/x", gockerDirSet: true}, "root keeps runtime state in /tmp/x ($GOCKER_RUNTIME_DIR)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runtimeDirResult(tt.state).Detail; got != tt.want {
				t.Errorf("detail = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRuntimeDirUnsetDetail(t *testing.T) {
	withSystemd := runtimeDirState{rootless: true, user: "gtest", uid: 1001, systemdBooted: true, stateDir: "/tmp/gocker-1001"}
	withoutSystemd := withSystemd
	withoutSystemd.systemdBooted = false
	tests := []struct {
		name  string
		state runtimeDirState
		want  string
	}{
		{
			name:  "systemd",
			state: withSystemd,
			want:  "$XDG_RUNTIME_DIR is not set (su, sudo and cron sessions do not set it), so gocker keeps runtime state in /tmp/gocker-1001 and rootless resource limits look for the user's bus at /run/user/1001/bus",
		},
		{
			name:  "no systemd",
			state: withoutSystemd,
			want:  "$XDG_RUNTIME_DIR is not set (su, sudo and cron sessions do not set it), so gocker keeps runtime state in /tmp/gocker-1001; rootless resource limits would look for the user's bus at /run/user/1001/bus, but this host runs no systemd user manager (see systemd-user)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runtimeDirResult(tt.state)
			if got.Detail != tt.want {
				t.Errorf("detail = %q\nwant     %q", got.Detail, tt.want)
			}
			if len(got.Fix) != 0 {
				t.Errorf("an info row has a fix: %q", got.Fix)
			}
		})
	}
}

var sampleResults = []hostcheck.Result{
	{Check: "subids", Status: hostcheck.OK, Detail: "gtest (uid 1001): /etc/subuid 100000-165535"},
	{Check: "tun", Status: hostcheck.Fail, Detail: "/dev/net/tun is crw------- root:root",
		Fix: []string{"sudo chmod 0666 /dev/net/tun", "echo rule | sudo tee FILE"}},
}

func TestPrintTable(t *testing.T) {
	var out bytes.Buffer
	if err := printResults(&out, "table", sampleResults); err != nil {
		t.Fatal(err)
	}
	want := `CHECK   STATUS  DETAIL
subids  ok      gtest (uid 1001): /etc/subuid 100000-165535
tun     fail    /dev/net/tun is crw------- root:root
  fix: sudo chmod 0666 /dev/net/tun
       echo rule | sudo tee FILE
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestPrintJSON(t *testing.T) {
	var out bytes.Buffer
	if err := printResults(&out, "json", sampleResults); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out.String())
	}
	if len(got) != 2 {
		t.Fatalf("got %d objects, want 2", len(got))
	}
	if _, ok := got[0]["fix"]; ok {
		t.Errorf("a result without a fix has a fix field: %v", got[0])
	}
	want := map[string]any{
		"check":  "tun",
		"status": "fail",
		"detail": "/dev/net/tun is crw------- root:root",
		"fix":    []any{"sudo chmod 0666 /dev/net/tun", "echo rule | sudo tee FILE"},
	}
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("second object (-want +got):\n%s", diff)
	}
}

func TestInitBinaryResult(t *testing.T) {
	base := initBinaryState{gockerID: "abc", path: "/opt/g/gocker-init", initID: "abc"}
	tests := []struct {
		name   string
		change func(*initBinaryState)
		status hostcheck.Status
		detail string
		fix    bool
	}{
		{"matching build", func(*initBinaryState) {}, hostcheck.OK, "containers start from /opt/g/gocker-init (build id abc)", false},
		{"plain go build", func(s *initBinaryState) { s.gockerID = "" }, hostcheck.Info, "built without a build id", false},
		{"missing", func(s *initBinaryState) { s.statErr = fs.ErrNotExist }, hostcheck.Info, "no /opt/g/gocker-init: gocker is its own container init", false},
		{"not executable", func(s *initBinaryState) { s.execErr = fs.ErrPermission }, hostcheck.Warn, "may not be executed", true},
		{"unreadable", func(s *initBinaryState) { s.openErr = fs.ErrPermission }, hostcheck.Warn, "cannot be read", true},
		{"plain go build of the init", func(s *initBinaryState) { s.initID = "" }, hostcheck.Fail, `(build id none, gocker's "abc")`, true},
		{"fails to run", func(s *initBinaryState) { s.runErr = errors.New("exec format error") }, hostcheck.Fail, "--build-id failed (exec format error)", true},
		{"other build", func(s *initBinaryState) { s.initID = "xyz" }, hostcheck.Fail, `another build (build id "xyz", gocker's "abc")`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.change(&s)
			res := initBinaryResult(s)
			if res.Status != tt.status {
				t.Errorf("status = %s, want %s", res.Status, tt.status)
			}
			if !strings.Contains(res.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", res.Detail, tt.detail)
			}
			if got := len(res.Fix) > 0; got != tt.fix {
				t.Errorf("fix = %q, want a fix: %v", res.Fix, tt.fix)
			}
			if res.Status == hostcheck.Fail && res.Fix[len(res.Fix)-1] != "sudo rm /opt/g/gocker-init" {
				t.Errorf("fix = %q, want sudo rm of the file in a directory the user may not write", res.Fix)
			}
		})
	}
}
