package userns

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/gocker/gocker/hostcheck"
	"github.com/google/go-cmp/cmp"
)

func mustParseSubIDs(t *testing.T, input string) []SubIDEntry {
	t.Helper()
	entries, err := ParseSubIDs(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestSubIDResult(t *testing.T) {
	gtest := Identity{Name: "gtest", UID: 1001, GID: 1001}
	tests := []struct {
		name       string
		user       Identity
		rootless   bool
		subuid     string
		subgid     string
		wantStatus hostcheck.Status
		wantDetail string
		wantFix    []string
	}{
		{
			name: "enough ids by name", user: gtest, rootless: true,
			subuid: "gtest:100000:65536\n", subgid: "gtest:100000:65536\n",
			wantStatus: hostcheck.OK,
			wantDetail: "gtest (uid 1001): /etc/subuid 100000-165535, /etc/subgid 100000-165535",
		},
		{
			name: "enough ids by uid", user: gtest, rootless: true,
			subuid: "1001:200000:65536\n", subgid: "gtest:200000:65536\n",
			wantStatus: hostcheck.OK,
			wantDetail: "gtest (uid 1001): /etc/subuid 200000-265535, /etc/subgid 200000-265535",
		},
		{
			name: "two small ranges add up", user: gtest, rootless: true,
			subuid: "gtest:100000:30000\ngtest:200000:35535\n", subgid: "gtest:100000:65535\n",
			wantStatus: hostcheck.OK,
			wantDetail: "gtest (uid 1001): /etc/subuid 100000-129999,200000-235534, /etc/subgid 100000-165534",
		},
		{
			name: "both files missing the user", user: gtest, rootless: true,
			subuid: "alice:100000:65536\n", subgid: "alice:100000:65536\n",
			wantStatus: hostcheck.Fail,
			wantDetail: "/etc/subuid: no subordinate ids for gtest (uid 1001); /etc/subgid: no subordinate ids for gtest (uid 1001)",
			wantFix:    []string{"sudo usermod --add-subuids 165536-231071 --add-subgids 165536-231071 gtest"},
		},
		{
			name: "free range above both files", user: gtest, rootless: true,
			subuid: "gtest:100000:65536\n", subgid: "bob:300000:65536\n",
			wantStatus: hostcheck.Fail,
			wantDetail: "/etc/subgid: no subordinate ids for gtest (uid 1001)",
			wantFix:    []string{"sudo usermod --add-subgids 365536-431071 gtest"},
		},
		{
			name: "range too small", user: gtest, rootless: true,
			subuid: "gtest:100000:1000\n", subgid: "gtest:100000:65536\n",
			wantStatus: hostcheck.Fail,
			wantDetail: "/etc/subuid: subordinate id range too small: 1000 ids, gocker needs at least 65535",
			wantFix:    []string{"sudo usermod --add-subuids 165536-231071 gtest"},
		},
		{
			name: "range contains own uid", user: gtest, rootless: true,
			subuid: "gtest:1000:65536\n", subgid: "gtest:100000:65536\n",
			wantStatus: hostcheck.Fail,
			wantDetail: "/etc/subuid: range 1000-66535: subordinate id range contains the user's own id 1001",
			wantFix:    []string{"sudo usermod --del-subuids 1000-66535 --add-subuids 165536-231071 gtest"},
		},
		{
			name: "user without passwd entry", user: Identity{UID: 1234, GID: 1234}, rootless: true,
			subuid: "", subgid: "1234:100000:65536\n",
			wantStatus: hostcheck.Fail,
			wantDetail: "/etc/subuid: no subordinate ids for uid 1234",
			wantFix:    []string{"echo 1234:165536:65536 | sudo tee -a /etc/subuid"},
		},
		{
			name: "root without entries", user: Identity{Name: "root"}, rootless: false,
			wantStatus: hostcheck.Info,
			wantDetail: "root needs no subordinate ids unless it requests a user namespace",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SubIDResult(SubIDState{
				User:       tt.user,
				Rootless:   tt.rootless,
				UIDEntries: mustParseSubIDs(t, tt.subuid),
				GIDEntries: mustParseSubIDs(t, tt.subgid),
			})
			if got.Check != "subids" {
				t.Errorf("check = %q, want subids", got.Check)
			}
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

func TestSubIDResultReadError(t *testing.T) {
	_, parseErr := ParseSubIDs(strings.NewReader("gtest:100000\n"))
	got := SubIDResult(SubIDState{
		User:     Identity{Name: "gtest", UID: 1001, GID: 1001},
		Rootless: true,
		ReadErr:  fmt.Errorf("parse /etc/subuid: %w", parseErr),
	})
	if got.Status != hostcheck.Fail {
		t.Errorf("status = %s, want fail", got.Status)
	}
	if !strings.Contains(got.Detail, "/etc/subuid: line 1") {
		t.Errorf("detail = %q, want the file and line", got.Detail)
	}
}

func TestMapToolResult(t *testing.T) {
	tests := []struct {
		name       string
		state      MapToolState
		rootless   bool
		wantStatus hostcheck.Status
		wantDetail string
		wantFix    []string
	}{
		{
			name:       "setuid root",
			state:      MapToolState{Tool: "newuidmap", Path: "/usr/bin/newuidmap", Setuid: true},
			rootless:   true,
			wantStatus: hostcheck.OK,
			wantDetail: "/usr/bin/newuidmap, setuid root",
		},
		{
			name:       "file capabilities",
			state:      MapToolState{Tool: "newgidmap", Path: "/usr/bin/newgidmap"},
			rootless:   true,
			wantStatus: hostcheck.OK,
			wantDetail: "/usr/bin/newgidmap, file capabilities",
		},
		{
			name:       "not installed",
			state:      MapToolState{Tool: "newuidmap", Err: fmt.Errorf("%w: newuidmap not found", ErrMapToolMissing)},
			rootless:   true,
			wantStatus: hostcheck.Fail,
			wantDetail: "newuidmap not found in $PATH (package uidmap on Debian and Ubuntu, shadow-utils on Fedora)",
			wantFix:    []string{"sudo apt-get install uidmap"},
		},
		{
			name:       "not privileged",
			state:      MapToolState{Tool: "newgidmap", Path: "/usr/bin/newgidmap", Err: fmt.Errorf("%w: /usr/bin/newgidmap", ErrMapToolNotPrivileged)},
			rootless:   true,
			wantStatus: hostcheck.Fail,
			wantDetail: `/usr/bin/newgidmap is neither setuid root nor has file capabilities, so it cannot write id maps ("sudo setcap cap_setgid+ep /usr/bin/newgidmap" works too)`,
			wantFix:    []string{"sudo chmod u+s /usr/bin/newgidmap"},
		},
		{
			name:       "root without the tool",
			state:      MapToolState{Tool: "newuidmap", Err: fmt.Errorf("%w: newuidmap not found", ErrMapToolMissing)},
			rootless:   false,
			wantStatus: hostcheck.Info,
			wantDetail: "root writes id maps itself and does not need newuidmap",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MapToolResult(tt.state, tt.rootless)
			if got.Check != tt.state.Tool {
				t.Errorf("check = %q, want %q", got.Check, tt.state.Tool)
			}
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

func sysctl(name string, value int64) hostcheck.Sysctl {
	return hostcheck.Sysctl{Name: name, Value: value, Present: true}
}

func absent(name string) hostcheck.Sysctl { return hostcheck.Sysctl{Name: name} }

// statuses renders results as "check=status" pairs so that one comparison
// shows which rows exist and what each decided.
func statuses(results []hostcheck.Result) string {
	parts := make([]string, len(results))
	for i, r := range results {
		parts[i] = r.Check + "=" + string(r.Status)
	}
	return strings.Join(parts, " ")
}

func TestNamespaceResults(t *testing.T) {
	const exe = "/usr/local/bin/gocker"
	eperm := fmt.Errorf("sethostname as uid 0 in the new user namespace: %w", syscall.EPERM)
	maxNamespaces := func(v int64) hostcheck.Sysctl { return sysctl("user.max_user_namespaces", v) }
	clone := func(v int64) hostcheck.Sysctl { return sysctl("kernel.unprivileged_userns_clone", v) }
	apparmor := func(v int64) hostcheck.Sysctl { return sysctl("kernel.apparmor_restrict_unprivileged_userns", v) }
	noClone := absent("kernel.unprivileged_userns_clone")
	noAppArmor := absent("kernel.apparmor_restrict_unprivileged_userns")
	tests := []struct {
		name         string
		state        NamespaceState
		wantStatuses string
		// wantFix maps a check name to the first line of its fix.
		wantFix map[string]string
	}{
		{
			name:         "debian 12 defaults",
			state:        NamespaceState{Rootless: true, MaxUserNamespaces: maxNamespaces(96369), UnprivilegedClone: noClone, AppArmorRestrict: noAppArmor},
			wantStatuses: "userns-max=ok userns-create=ok",
		},
		{
			name:         "user namespaces disabled",
			state:        NamespaceState{Rootless: true, MaxUserNamespaces: maxNamespaces(0), UnprivilegedClone: noClone, AppArmorRestrict: noAppArmor, ProbeErr: errors.New("clone with CLONE_NEWUSER: ENOSPC")},
			wantStatuses: "userns-max=fail userns-create=fail",
			wantFix: map[string]string{
				"userns-max":    "sudo sysctl -w user.max_user_namespaces=28633",
				"userns-create": "# apply the fix of the userns-max check above, then run gocker doctor again",
			},
		},
		{
			name:         "old debian kernel restricting clone",
			state:        NamespaceState{Rootless: true, MaxUserNamespaces: maxNamespaces(15000), UnprivilegedClone: clone(0), AppArmorRestrict: noAppArmor, ProbeErr: errors.New("clone with CLONE_NEWUSER: EPERM")},
			wantStatuses: "userns-max=ok userns-clone=fail userns-create=fail",
			wantFix: map[string]string{
				"userns-clone":  "sudo sysctl -w kernel.unprivileged_userns_clone=1",
				"userns-create": "# apply the fix of the userns-clone check above, then run gocker doctor again",
			},
		},
		{
			name:         "ubuntu 24.04 without a profile",
			state:        NamespaceState{Rootless: true, MaxUserNamespaces: maxNamespaces(63000), UnprivilegedClone: clone(1), AppArmorRestrict: apparmor(1), ProbeErr: eperm, Executable: exe},
			wantStatuses: "userns-max=ok userns-clone=ok userns-apparmor=fail userns-create=fail",
			wantFix: map[string]string{
				"userns-apparmor": AppArmorFix(exe)[0],
				"userns-create":   "# apply the fix of the userns-apparmor check above, then run gocker doctor again",
			},
		},
		{
			name:         "ubuntu 24.04 with a profile",
			state:        NamespaceState{Rootless: true, MaxUserNamespaces: maxNamespaces(63000), UnprivilegedClone: clone(1), AppArmorRestrict: apparmor(1), Executable: exe},
			wantStatuses: "userns-max=ok userns-clone=ok userns-apparmor=ok userns-create=ok",
		},
		{
			name:         "probe fails without a sysctl cause",
			state:        NamespaceState{Rootless: true, MaxUserNamespaces: maxNamespaces(63000), UnprivilegedClone: noClone, AppArmorRestrict: apparmor(0), ProbeErr: errors.New("clone with CLONE_NEWUSER: EPERM")},
			wantStatuses: "userns-max=ok userns-apparmor=ok userns-create=fail",
			wantFix: map[string]string{
				"userns-create": "# no sysctl explains the failure; inside a container, a seccomp profile that blocks",
			},
		},
		{
			name:         "kernel without user namespaces",
			state:        NamespaceState{Rootless: true, MaxUserNamespaces: absent("user.max_user_namespaces"), UnprivilegedClone: noClone, AppArmorRestrict: noAppArmor, ProbeErr: errors.New("clone with CLONE_NEWUSER: EINVAL")},
			wantStatuses: "userns-max=fail userns-create=fail",
			wantFix:      map[string]string{"userns-max": "# boot a kernel built with CONFIG_USER_NS=y"},
		},
		{
			name:         "root on ubuntu 24.04",
			state:        NamespaceState{Rootless: false, MaxUserNamespaces: maxNamespaces(63000), UnprivilegedClone: clone(0), AppArmorRestrict: apparmor(1)},
			wantStatuses: "userns-max=ok userns-clone=info userns-apparmor=info userns-create=ok",
		},
		{
			name:         "root with user namespaces disabled",
			state:        NamespaceState{Rootless: false, MaxUserNamespaces: maxNamespaces(0), UnprivilegedClone: noClone, AppArmorRestrict: noAppArmor, ProbeErr: errors.New("clone with CLONE_NEWUSER: ENOSPC")},
			wantStatuses: "userns-max=warn userns-create=warn",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NamespaceResults(tt.state)
			if s := statuses(got); s != tt.wantStatuses {
				t.Errorf("statuses = %q\nwant       %q", s, tt.wantStatuses)
			}
			for _, r := range got {
				want, ok := tt.wantFix[r.Check]
				if !ok {
					continue
				}
				if len(r.Fix) == 0 || r.Fix[0] != want {
					t.Errorf("%s fix = %q, want first line %q", r.Check, r.Fix, want)
				}
			}
		})
	}
}

func TestSysctlFixPersists(t *testing.T) {
	results := NamespaceResults(NamespaceState{
		Rootless:          true,
		MaxUserNamespaces: sysctl("user.max_user_namespaces", 0),
	})
	want := []string{
		"sudo sysctl -w user.max_user_namespaces=28633",
		"echo user.max_user_namespaces=28633 | sudo tee /etc/sysctl.d/90-gocker-userns.conf",
	}
	if diff := cmp.Diff(want, results[0].Fix); diff != "" {
		t.Errorf("fix (-want +got):\n%s", diff)
	}
}

func TestAppArmorProfile(t *testing.T) {
	want := `abi <abi/4.0>,
include <tunables/global>

profile gocker /usr/local/bin/gocker flags=(unconfined) {
  userns,

  include if exists <local/gocker>
}
`
	if got := AppArmorProfile("/usr/local/bin/gocker"); got != want {
		t.Errorf("profile:\n%s\nwant:\n%s", got, want)
	}
	if got := AppArmorProfile("/opt/my tools/gocker"); !strings.Contains(got, `profile gocker "/opt/my tools/gocker" flags=(unconfined) {`) {
		t.Errorf("path with a space is not quoted:\n%s", got)
	}
}

func TestAppArmorFix(t *testing.T) {
	want := []string{
		`printf '%s\n' 'abi <abi/4.0>,' 'include <tunables/global>' '' 'profile gocker /usr/local/bin/gocker flags=(unconfined) {' '  userns,' '' '  include if exists <local/gocker>' '}' | sudo tee /etc/apparmor.d/gocker >/dev/null`,
		"sudo apparmor_parser -r /etc/apparmor.d/gocker",
	}
	if diff := cmp.Diff(want, AppArmorFix("/usr/local/bin/gocker")); diff != "" {
		t.Errorf("fix (-want +got):\n%s", diff)
	}
}
