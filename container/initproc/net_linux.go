package initproc

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// setLoopbackUp brings up lo in the container's new network namespace,
// which the kernel creates down. An ioctl on a datagram socket does it in
// two system calls, where a netlink link lookup would dump every link.
func setLoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("get flags of lo", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("bring up lo", err)
	}
	return nil
}

// setNetworkSysctls gives the container's network namespace Docker's
// defaults for unprivileged users: any port may be bound, and every group
// may open ICMP echo ("ping") sockets. In a user namespace only the mapped
// groups can be named, so the range ends at the highest mapped gid. A
// kernel without either setting keeps its own value.
func setNetworkSysctls() {
	_ = os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("0"), 0)
	_ = os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte("0 "+strconv.FormatUint(uint64(highestMappedGID()), 10)), 0)
}

// highestMappedGID returns the largest gid that /proc/self/gid_map maps,
// at most 2147483647, the largest value ping_group_range takes.
func highestMappedGID() uint32 {
	const limit = 1<<31 - 1
	data, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return 0
	}
	var highest uint64
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		inside, err1 := strconv.ParseUint(f[0], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 == nil && err2 == nil && count > 0 {
			highest = max(highest, inside+count-1)
		}
	}
	return uint32(min(highest, limit))
}
