package overlay

import (
	"errors"
	"strings"
	"testing"

	"github.com/gocker/gocker/hostcheck"
)

func TestParseKernelRelease(t *testing.T) {
	tests := []struct {
		release string
		want    KernelVersion
		wantErr bool
	}{
		{release: "6.1.0-18-amd64", want: KernelVersion{6, 1}},
		{release: "5.15.0-1057-azure", want: KernelVersion{5, 15}},
		{release: "6.18.44-fc-v1252", want: KernelVersion{6, 18}},
		{release: "5.10", want: KernelVersion{5, 10}},
		{release: "4.19-rc3", want: KernelVersion{4, 19}},
		{release: "6", wantErr: true},
		{release: "", wantErr: true},
		{release: "x.y.z", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			got, err := ParseKernelRelease(tt.release)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseKernelRelease(%q) = %v, want an error", tt.release, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseKernelRelease(%q) = %v, want %v", tt.release, got, tt.want)
			}
		})
	}
}

func TestKernelVersionAtLeast(t *testing.T) {
	tests := []struct {
		v            KernelVersion
		major, minor int
		want         bool
	}{
		{KernelVersion{5, 11}, 5, 11, true},
		{KernelVersion{5, 10}, 5, 11, false},
		{KernelVersion{6, 0}, 5, 11, true},
		{KernelVersion{4, 19}, 5, 11, false},
		{KernelVersion{6, 5}, 6, 6, false},
	}
	for _, tt := range tests {
		if got := tt.v.AtLeast(tt.major, tt.minor); got != tt.want {
			t.Errorf("%v.AtLeast(%d, %d) = %v, want %v", tt.v, tt.major, tt.minor, got, tt.want)
		}
	}
}

func TestStoreResult(t *testing.T) {
	const root = "/home/gtest/.local/share/gocker"
	enotsup := errors.New("EOPNOTSUPP (operation not supported)")
	tests := []struct {
		name       string
		state      StoreState
		wantStatus hostcheck.Status
		wantDetail string
		wantFix    bool
	}{
		{
			name:       "ext4 rootless",
			state:      StoreState{Root: root, Rootless: true, Magic: magicExt4, Kernel: KernelVersion{6, 1}},
			wantStatus: hostcheck.OK,
			wantDetail: root + " is on ext4, user.* xattrs work",
		},
		{
			name:       "xfs root",
			state:      StoreState{Root: "/var/lib/gocker", Magic: magicXFS, Kernel: KernelVersion{6, 1}},
			wantStatus: hostcheck.OK,
			wantDetail: "/var/lib/gocker is on xfs, trusted.* xattrs work",
		},
		{
			name:       "tmpfs before 6.6",
			state:      StoreState{Root: root, Rootless: true, Magic: magicTmpfs, Kernel: KernelVersion{6, 1}, XattrErr: enotsup},
			wantStatus: hostcheck.Fail,
			wantDetail: root + " is on tmpfs, which rejects user.* xattrs (EOPNOTSUPP (operation not supported)), and overlay keeps whiteouts and opaque directories in them; tmpfs stores user xattrs from Linux 6.6, this kernel is 6.1",
			wantFix:    true,
		},
		{
			name:       "tmpfs from 6.6",
			state:      StoreState{Root: root, Rootless: true, Magic: magicTmpfs, Kernel: KernelVersion{6, 6}},
			wantStatus: hostcheck.OK,
			wantDetail: root + " is on tmpfs, user.* xattrs work; tmpfs loses images and containers at reboot",
		},
		{
			name:       "nfs home",
			state:      StoreState{Root: root, Rootless: true, Magic: magicNFS, Kernel: KernelVersion{6, 1}},
			wantStatus: hostcheck.Warn,
			wantDetail: root + " is on nfs, which overlay does not accept as upper filesystem; the overlay check below shows whether this kernel does",
			wantFix:    true,
		},
		{
			name:       "overlay inside a container",
			state:      StoreState{Root: "/var/lib/gocker", Magic: magicOverlay, Kernel: KernelVersion{6, 8}},
			wantStatus: hostcheck.Warn,
			wantDetail: "/var/lib/gocker is on overlayfs, which overlay does not accept as upper filesystem; the overlay check below shows whether this kernel does",
			wantFix:    true,
		},
		{
			name:       "store root not creatable",
			state:      StoreState{Root: root, Rootless: true, Err: errors.New("create store root: permission denied")},
			wantStatus: hostcheck.Fail,
			wantDetail: "create store root: permission denied",
			wantFix:    true,
		},
		{
			name:       "unknown filesystem",
			state:      StoreState{Root: root, Rootless: true, Magic: 0x1234},
			wantStatus: hostcheck.OK,
			wantDetail: root + " is on filesystem 0x1234, user.* xattrs work",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StoreResult(tt.state)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if got.Detail != tt.wantDetail {
				t.Errorf("detail = %q\nwant     %q", got.Detail, tt.wantDetail)
			}
			if hasFix := len(got.Fix) > 0; hasFix != tt.wantFix {
				t.Errorf("fix = %q, want a fix: %v", got.Fix, tt.wantFix)
			}
		})
	}
}

func TestMountResult(t *testing.T) {
	einval := "mount overlay with lowerdir=lower,upperdir=upper,workdir=work,userxattr: EINVAL (invalid argument)"
	tests := []struct {
		name       string
		state      MountState
		wantStatus hostcheck.Status
		wantDetail string
		wantFix    string
	}{
		{
			name:       "rootless works",
			state:      MountState{Rootless: true, Kernel: KernelVersion{6, 1}, Options: mountCheckOptions(true)},
			wantStatus: hostcheck.OK,
			wantDetail: "mounted overlay (lowerdir=lower,upperdir=upper,workdir=work,userxattr) in a user namespace: lower files show, writes land in upper, whiteouts and opaque directories work",
		},
		{
			name:       "root works",
			state:      MountState{Kernel: KernelVersion{6, 1}, Options: mountCheckOptions(false)},
			wantStatus: hostcheck.OK,
			wantDetail: "mounted overlay (lowerdir=lower,upperdir=upper,workdir=work) as root: lower files show, writes land in upper, whiteouts and opaque directories work",
		},
		{
			name:       "old kernel",
			state:      MountState{Rootless: true, Kernel: KernelVersion{5, 10}, MountErr: einval},
			wantStatus: hostcheck.Fail,
			wantDetail: einval + "; overlay in a user namespace needs Linux 5.11 or later, this kernel is 5.10",
			wantFix:    "# boot Linux 5.11 or later",
		},
		{
			name:       "new kernel still fails",
			state:      MountState{Rootless: true, Kernel: KernelVersion{6, 1}, MountErr: einval},
			wantStatus: hostcheck.Fail,
			wantDetail: einval + " (mounted in a user namespace, kernel 6.1)",
			wantFix:    "sudo dmesg | grep -i overlayfs | tail -n 5   # the kernel logs why it rejected the mount",
		},
		{
			name:       "helper cannot start",
			state:      MountState{Rootless: true, Kernel: KernelVersion{6, 1}, RunErr: errors.New("no subordinate ids for gtest (uid 1001) in /etc/subuid")},
			wantStatus: hostcheck.Warn,
			wantDetail: "not checked: no subordinate ids for gtest (uid 1001) in /etc/subuid",
			wantFix:    "# fix the failing checks above, then run gocker doctor again",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MountResult(tt.state)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", got.Status, tt.wantStatus)
			}
			if got.Detail != tt.wantDetail {
				t.Errorf("detail = %q\nwant     %q", got.Detail, tt.wantDetail)
			}
			if fix := strings.Join(got.Fix, "\n"); fix != tt.wantFix {
				t.Errorf("fix = %q, want %q", fix, tt.wantFix)
			}
		})
	}
}

func TestKernelResult(t *testing.T) {
	tests := []struct {
		release    string
		wantStatus hostcheck.Status
		wantFix    bool
	}{
		{release: "6.18.44-fc-v1252", wantStatus: hostcheck.OK},
		{release: "6.1.0-18-amd64", wantStatus: hostcheck.OK},
		{release: "5.12.0", wantStatus: hostcheck.OK},
		{release: "5.11.22-rc3", wantStatus: hostcheck.Fail, wantFix: true},
		{release: "4.19.0-26-amd64", wantStatus: hostcheck.Fail, wantFix: true},
		{release: "banana", wantStatus: hostcheck.Warn},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			got := KernelResult(tt.release)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s (detail %q)", got.Status, tt.wantStatus, got.Detail)
			}
			if !strings.Contains(got.Detail, tt.release) {
				t.Errorf("detail %q does not name the release", got.Detail)
			}
			if (len(got.Fix) > 0) != tt.wantFix {
				t.Errorf("fix = %q, want a fix: %v", got.Fix, tt.wantFix)
			}
		})
	}
}
