package cgroupv2

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hybridMountinfo is /proc/self/mountinfo of a development host, cut to
// its cgroup lines and two others.
const hybridMountinfo = `23 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestParseV1Mounts(t *testing.T) {
	mounts, err := ParseV1Mounts(strings.NewReader(hybridMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	want := []V1Mount{
		{MountPoint: "/sys/fs/cgroup/cpu", Root: "/", Controllers: []string{"cpu"}},
		{MountPoint: "/sys/fs/cgroup/cpuacct", Root: "/", Controllers: []string{"cpuacct"}},
		{MountPoint: "/sys/fs/cgroup/memory", Root: "/", Controllers: []string{"memory"}},
		{MountPoint: "/sys/fs/cgroup/pids", Root: "/", Controllers: []string{"pids"}},
		{MountPoint: "/sys/fs/cgroup/systemd", Root: "/", Controllers: []string{"name=systemd"}},
	}
	if diff := cmp.Diff(want, mounts); diff != "" {
		t.Errorf("ParseV1Mounts (-want +got):\n%s", diff)
	}
}

func TestParseV1MountsComounted(t *testing.T) {
	// A Docker container on a cgroup v1 host: cpu and cpuacct share a
	// hierarchy, whose root is the container's cgroup, and the same
	// hierarchy is mounted twice.
	input := `612 611 0:32 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct
613 611 0:32 /docker/abc /mnt/cpu\040acct ro,nosuid - cgroup cgroup rw,cpu,cpuacct
614 611 0:33 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
`
	mounts, err := ParseV1Mounts(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 2 {
		t.Fatalf("got %d mounts, want 2: %+v", len(mounts), mounts)
	}
	cpu, ok := V1MountOf(mounts, "cpuacct")
	if !ok || cpu.MountPoint != "/sys/fs/cgroup/cpu,cpuacct" {
		t.Fatalf("V1MountOf(cpuacct) = %+v, %v", cpu, ok)
	}
	tests := []struct {
		cgroup, want string
		ok           bool
	}{
		{"/docker/abc", "/sys/fs/cgroup/cpu,cpuacct", true},
		{"/docker/abc/gocker-1", "/sys/fs/cgroup/cpu,cpuacct/gocker-1", true},
		{"/docker/abcdef", "", false},
		{"/", "", false},
	}
	for _, tt := range tests {
		got, ok := cpu.Dir(tt.cgroup)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Dir(%q) = %q, %v; want %q, %v", tt.cgroup, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/tab\011`: "/tab\t", `/plain`: "/plain", `/x\04`: `/x\04`, `/y\09z`: `/y\09z`} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseV1MountsMalformed(t *testing.T) {
	if _, err := ParseV1Mounts(strings.NewReader("garbage line\n")); err == nil {
		t.Error("ParseV1Mounts accepted a malformed line")
	}
}

func FuzzParseV1Mounts(f *testing.F) {
	f.Add(hybridMountinfo)
	f.Fuzz(func(t *testing.T, input string) {
		mounts, err := ParseV1Mounts(strings.NewReader(input))
		if err != nil {
			return
		}
		for _, m := range mounts {
			if len(m.Controllers) == 0 {
				t.Errorf("mount without controllers: %+v", m)
			}
		}
	})
}

func TestCgroupsHidden(t *testing.T) {
	// A copy of the host's mount namespace, with a fresh sysfs at /sys as
	// "ip netns exec" mounts it: new mount ids, no cgroup mounts visible.
	const netnsExec = `501 500 253:0 / / rw,relatime - ext4 /dev/vda rw
502 501 0:50 / /sys rw,relatime - sysfs sysfs rw
`
	// The same copy where the fresh sysfs covers the copied cgroup mounts,
	// which mountinfo still lists.
	const covered = `501 500 253:0 / / rw,relatime - ext4 /dev/vda rw
531 501 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
535 531 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
560 501 0:50 / /sys rw,relatime - sysfs sysfs rw
`
	const unified = "23 1 253:0 / / rw - ext4 /dev/vda rw\n30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
	const noCgroups = "23 1 253:0 / / rw - ext4 /dev/vda rw\n24 23 0:21 / /sys rw - sysfs sysfs rw\n"
	tests := []struct {
		name       string
		self, pid1 string
		want       bool
	}{
		{"other namespace on a hybrid host", netnsExec, hybridMountinfo, true},
		{"covered cgroup mounts", covered, hybridMountinfo, true},
		{"other namespace on a unified host", netnsExec, unified, true},
		{"PID 1's namespace", hybridMountinfo, hybridMountinfo, false},
		{"PID 1's namespace without cgroups", noCgroups, noCgroups, false},
		{"host without cgroups", netnsExec, noCgroups, false},
		{"own mountinfo unreadable", "", hybridMountinfo, false},
		{"PID 1's mountinfo unreadable", netnsExec, "", false},
		{"PID 1's mountinfo invalid", netnsExec, "not mountinfo\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CgroupsHidden(strings.NewReader(tt.self), strings.NewReader(tt.pid1)); got != tt.want {
				t.Errorf("CgroupsHidden = %v, want %v", got, tt.want)
			}
		})
	}
}
