package cgroupv2

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/gocker/gocker/hostcheck"
	"github.com/google/go-cmp/cmp"
)

const userService = "/sys/fs/cgroup/user.slice/user-1001.slice/user@1001.service/cgroup.controllers"

var delegationFix = []string{
	"sudo mkdir -p /etc/systemd/system/user@.service.d",
	`printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf`,
	"sudo systemctl daemon-reload",
	"# then log out and in again, so that user@1001.service restarts with the delegation",
}

func rootlessV2(controllers ...string) State {
	return State{
		Mode: ModeUnified, Rootless: true, User: "gtest", UID: 1001,
		OwnCgroup:   "/user.slice/user-1001.slice/session-3.scope",
		Controllers: controllers, ControllersFrom: userService, Delegated: true,
		RootControllers: []string{"cpuset", "cpu", "io", "memory", "pids"},
		SystemdBooted:   true, InitName: "systemd", BusPath: "/run/user/1001/bus", BusExists: true,
	}
}

// rootlessHybrid returns an unprivileged user on a hybrid host whose v1
// hierarchies have every controller, booted with or without systemd and
// with or without /etc/default/grub. Without systemd, PID 1 is a
// container init and there is no user bus.
func rootlessHybrid(systemd, grub bool) State {
	v1 := []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"}
	s := State{
		Mode: ModeHybrid, Rootless: true, User: "gtest", UID: 1001, OwnCgroup: "/",
		Controllers: v1, ControllersFrom: "/proc/self/cgroup", RootControllers: v1,
		SystemdBooted: systemd, InitName: "process_api", GrubDefaults: grub,
		BusPath: "/run/user/1001/bus",
	}
	if systemd {
		s.InitName, s.BusExists = "systemd", true
	}
	return s
}

func TestResults(t *testing.T) {
	noBus := rootlessV2("cpu", "memory", "pids")
	noBus.BusExists = false
	noSystemd := rootlessV2()
	noSystemd.SystemdBooted = false
	noSystemd.InitName = "tini"
	noSystemd.BusExists = false
	noSystemd.Delegated = false
	noSystemd.ControllersFrom = "/sys/fs/cgroup/init.scope/cgroup.controllers"
	noService := rootlessV2()
	noService.ControllersErr = &fs.PathError{Op: "open", Path: userService, Err: fs.ErrNotExist}
	tests := []struct {
		name         string
		state        State
		wantStatuses string
		wantFix      map[string][]string
	}{
		{
			name:         "github actions ubuntu 24.04",
			state:        rootlessV2("cpu", "cpuset", "io", "memory", "pids"),
			wantStatuses: "cgroup=info cgroup-limits=ok systemd-user=ok",
		},
		{
			name:         "cpu not delegated",
			state:        rootlessV2("memory", "pids"),
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=ok",
			wantFix:      map[string][]string{"cgroup-limits": delegationFix},
		},
		{
			name:         "no user bus",
			state:        noBus,
			wantStatuses: "cgroup=info cgroup-limits=ok systemd-user=warn",
			wantFix: map[string][]string{"systemd-user": {
				"sudo loginctl enable-linger gtest",
				"export XDG_RUNTIME_DIR=/run/user/1001",
			}},
		},
		{
			name:         "no user manager",
			state:        noService,
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=ok",
			wantFix:      map[string][]string{"cgroup-limits": {"sudo loginctl enable-linger gtest"}},
		},
		{
			name:         "v2 without systemd",
			state:        noSystemd,
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=warn",
			wantFix: map[string][]string{
				"cgroup-limits": {
					"# run containers that need limits as root, which can enforce these limits on this host",
					"# or run them without --cpus, --cpu-shares, --memory and --pids-limit",
				},
				"systemd-user": {
					"# run containers that need limits as root, which can enforce these limits on this host",
					"# or run them without --cpus, --cpu-shares, --memory and --pids-limit",
				},
			},
		},
		{
			name:         "rootless on hybrid with systemd and grub",
			state:        rootlessHybrid(true, true),
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=ok",
			wantFix: map[string][]string{"cgroup-limits": {
				"# boot with cgroup v2: add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, then",
				"sudo update-grub && sudo reboot",
				"# or run containers that need limits as root, which can enforce these limits on this host",
				"# or run them without --cpus, --cpu-shares, --memory and --pids-limit",
			}},
		},
		{
			name:         "rootless on hybrid without systemd",
			state:        rootlessHybrid(false, false),
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=warn",
			wantFix: map[string][]string{"cgroup-limits": {
				"# run containers that need limits as root, which can enforce these limits on this host",
				"# or run them without --cpus, --cpu-shares, --memory and --pids-limit",
			}},
		},
		{
			name: "root on hybrid",
			state: State{Mode: ModeHybrid, User: "root", OwnCgroup: "/",
				Controllers: []string{"cpu", "cpuacct", "memory", "pids"}, ControllersFrom: "/proc/self/cgroup", Delegated: true},
			wantStatuses: "cgroup=info cgroup-limits=ok systemd-user=info",
		},
		{
			name: "root on v2 without pids",
			state: State{Mode: ModeUnified, User: "root", OwnCgroup: "/",
				Controllers: []string{"cpu", "memory"}, ControllersFrom: "/sys/fs/cgroup/cgroup.controllers", Delegated: true},
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=info",
			wantFix: map[string][]string{"cgroup-limits": {
				"# the kernel lacks the controller or a boot option (cgroup_disable=) turns it off",
			}},
		},
		{
			name:         "no cgroups mounted",
			state:        State{Mode: ModeUnknown, Rootless: true, User: "gtest", UID: 1001, SystemdBooted: true},
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=warn",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Results(tt.state)
			var statuses []string
			for _, r := range got {
				statuses = append(statuses, r.Check+"="+string(r.Status))
				if want, ok := tt.wantFix[r.Check]; ok {
					if diff := cmp.Diff(want, r.Fix); diff != "" {
						t.Errorf("%s fix (-want +got):\n%s", r.Check, diff)
					}
				}
			}
			if s := strings.Join(statuses, " "); s != tt.wantStatuses {
				t.Errorf("statuses = %q\nwant       %q", s, tt.wantStatuses)
			}
		})
	}
}

func TestMissingControllersDetail(t *testing.T) {
	got := limitsResult(rootlessV2("pids"))
	want := "controllers cpu memory missing from " + userService +
		" (it offers pids), so --cpus, --cpu-shares and --memory fail; containers without limits still run"
	if got.Detail != want {
		t.Errorf("detail = %q\nwant     %q", got.Detail, want)
	}
}

func TestRootUnreadableControllers(t *testing.T) {
	s := State{Mode: ModeUnified, User: "root", ControllersErr: errors.New("open /sys/fs/cgroup/cgroup.controllers: permission denied")}
	got := limitsResult(s)
	if got.Status != hostcheck.Warn {
		t.Errorf("status = %s, want warn", got.Status)
	}
	if !strings.HasPrefix(got.Detail, "open /sys/fs/cgroup/cgroup.controllers") {
		t.Errorf("detail = %q, want the read error first", got.Detail)
	}
}

func TestRootlessLimitsFix(t *testing.T) {
	noRootPids := rootlessHybrid(false, false)
	noRootPids.RootControllers = []string{"cpu", "memory"}
	hiddenInit := rootlessHybrid(false, false)
	hiddenInit.InitName = ""
	tests := []struct {
		name      string
		state     State
		r         Resources
		wantFlags string
		want      string
	}{
		{
			name:      "hybrid without systemd",
			state:     rootlessHybrid(false, false),
			r:         Resources{Memory: 64 << 20, PidsLimit: 10},
			wantFlags: "--memory and --pids-limit",
			want: "cannot enforce --memory and --pids-limit: rootless resource limits need cgroup v2 and a systemd user manager, " +
				"and this host has neither: it mounts cgroup v1 (hybrid mode) and PID 1 is process_api, not systemd; to fix it:\n" +
				"  # run the container as root, which can enforce these limits on this host\n" +
				"  # or run it without --memory and --pids-limit",
		},
		{
			name:      "hybrid with systemd without grub",
			state:     rootlessHybrid(true, false),
			r:         Resources{NanoCPUs: 5e8},
			wantFlags: "--cpus",
			want: "cannot enforce --cpus: the host mounts cgroup v1 (hybrid mode), which gives an unprivileged user no cgroup; " +
				"rootless resource limits need cgroup v2; to fix it:\n" +
				"  # boot with cgroup v2: add systemd.unified_cgroup_hierarchy=1 to the kernel command line in the boot loader's configuration, then reboot\n" +
				"  # or run the container as root, which can enforce these limits on this host\n" +
				"  # or run it without --cpus",
		},
		{
			name:      "root lacks the controller",
			state:     noRootPids,
			r:         Resources{PidsLimit: 10},
			wantFlags: "--pids-limit",
			want: "cannot enforce --pids-limit: rootless resource limits need cgroup v2 and a systemd user manager, " +
				"and this host has neither: it mounts cgroup v1 (hybrid mode) and PID 1 is process_api, not systemd; to fix it:\n" +
				"  # run the container without --pids-limit",
		},
		{
			name:      "init name unreadable",
			state:     hiddenInit,
			r:         Resources{Memory: 64 << 20},
			wantFlags: "--memory",
			want: "cannot enforce --memory: rootless resource limits need cgroup v2 and a systemd user manager, " +
				"and this host has neither: it mounts cgroup v1 (hybrid mode) and systemd is not the init system (/run/systemd/system is missing); to fix it:\n" +
				"  # run the container as root, which can enforce these limits on this host\n" +
				"  # or run it without --memory",
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
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			for _, impossible := range []string{"update-grub", "loginctl", "systemctl"} {
				if !tt.state.GrubDefaults && strings.Contains(err.Error(), impossible) {
					t.Errorf("message suggests %s, which this host lacks", impossible)
				}
			}
		})
	}
}

func TestUserManagerDetail(t *testing.T) {
	withAddress := rootlessV2("cpu", "memory", "pids")
	withAddress.BusExists = false
	withAddress.BusAddress = "unix:path=/tmp/bus"
	tests := []struct {
		name       string
		state      State
		wantStatus hostcheck.Status
		want       string
	}{
		{
			name:       "hybrid without systemd",
			state:      rootlessHybrid(false, false),
			wantStatus: hostcheck.Warn,
			want: "needed for rootless resource limits, which are unavailable because this host runs no systemd user manager: " +
				"PID 1 is process_api, not systemd; no user bus at /run/user/1001/bus, and $DBUS_SESSION_BUS_ADDRESS is unset",
		},
		{
			name:       "hybrid with systemd",
			state:      rootlessHybrid(true, true),
			wantStatus: hostcheck.OK,
			want:       "needed for rootless resource limits: user bus at /run/user/1001/bus; the limits also need cgroup v2 (see cgroup-limits)",
		},
		{
			name:       "bus address from the environment",
			state:      withAddress,
			wantStatus: hostcheck.OK,
			want:       "needed for rootless resource limits: $DBUS_SESSION_BUS_ADDRESS is unix:path=/tmp/bus",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := userManagerResult(tt.state)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if got.Detail != tt.want {
				t.Errorf("detail = %q\nwant     %q", got.Detail, tt.want)
			}
		})
	}
}

func TestHiddenCgroupsMessages(t *testing.T) {
	hidden := State{Mode: ModeUnknown, User: "root", CgroupsHidden: true, NetnsName: "blue"}
	wantFix := []string{
		"# run gocker as nsenter --net=/run/netns/blue -- gocker ... instead of ip netns exec blue gocker ...",
		"# or mount the cgroup hierarchies that /proc/1/mountinfo lists in this mount namespace",
	}

	limits := limitsResult(hidden)
	if !strings.Contains(limits.Detail, "mount namespace has no cgroup mounts at /sys/fs/cgroup") {
		t.Errorf("cgroup-limits detail = %q, want the mount namespace named as the cause", limits.Detail)
	}
	if diff := cmp.Diff(wantFix, limits.Fix); diff != "" {
		t.Errorf("cgroup-limits fix (-want +got):\n%s", diff)
	}
	if mode := modeResult(hidden); !strings.Contains(mode.Detail, "PID 1's mount namespace has cgroup mounts") {
		t.Errorf("cgroup detail = %q, want PID 1's cgroup mounts named", mode.Detail)
	}

	err := CheckSupport(hidden, Resources{Memory: 32 << 20})
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("CheckSupport = %v, want an *UnsupportedError", err)
	}
	if strings.Contains(ue.Reason, "no cgroup hierarchy is mounted") {
		t.Errorf("reason = %q, want the mount namespace, not a missing mount, as the cause", ue.Reason)
	}
	if diff := cmp.Diff(wantFix, ue.Fix); diff != "" {
		t.Errorf("CheckSupport fix (-want +got):\n%s", diff)
	}

	unnamed := hidden
	unnamed.NetnsName = ""
	if fix := limitsResult(unnamed).Fix; len(fix) == 0 || !strings.Contains(fix[0], "nsenter --net=/run/netns/NAME") {
		t.Errorf("fix without a netns name = %q, want NAME as a placeholder", fix)
	}

	// A host without cgroups keeps the advice to mount cgroup2.
	plain := State{Mode: ModeUnknown, User: "root"}
	err = CheckSupport(plain, Resources{Memory: 32 << 20})
	if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "no cgroup hierarchy is mounted at /sys/fs/cgroup") {
		t.Errorf("CheckSupport without cgroups = %v, want no cgroup hierarchy mounted", err)
	}
}
