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
		SystemdBooted: true, BusPath: "/run/user/1001/bus", BusExists: true,
	}
}

func TestResults(t *testing.T) {
	noBus := rootlessV2("cpu", "memory", "pids")
	noBus.BusExists = false
	noSystemd := rootlessV2()
	noSystemd.SystemdBooted = false
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
				"cgroup-limits": {"sudo loginctl enable-linger gtest"},
				"systemd-user":  {"# run containers that need limits as root, or boot the host with systemd"},
			},
		},
		{
			name: "rootless on hybrid",
			state: State{Mode: ModeHybrid, Rootless: true, User: "gtest", UID: 1001, OwnCgroup: "/",
				Controllers: []string{"cpu", "memory", "pids"}, ControllersFrom: "/proc/self/cgroup"},
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=info",
			wantFix: map[string][]string{"cgroup-limits": {
				"# boot with cgroup v2: add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, then",
				"sudo update-grub && sudo reboot",
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
			state:        State{Mode: ModeUnknown, Rootless: true, User: "gtest", UID: 1001},
			wantStatuses: "cgroup=info cgroup-limits=warn systemd-user=info",
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
