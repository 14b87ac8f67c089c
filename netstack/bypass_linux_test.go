package netstack

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSockaddr(t *testing.T) {
	in4 := make([]byte, unix.SizeofSockaddrInet4)
	binary.NativeEndian.PutUint16(in4, unix.AF_INET)
	binary.BigEndian.PutUint16(in4[2:], 8080)
	copy(in4[4:], []byte{10, 0, 2, 100})
	in6 := make([]byte, unix.SizeofSockaddrInet6)
	binary.NativeEndian.PutUint16(in6, unix.AF_INET6)
	binary.BigEndian.PutUint16(in6[2:], 443)
	v6 := netip.MustParseAddr("fd00::1").As16()
	copy(in6[8:], v6[:])
	unixAddr := make([]byte, 16)
	binary.NativeEndian.PutUint16(unixAddr, unix.AF_UNIX)

	tests := []struct {
		name   string
		raw    []byte
		family int
		addr   string
		port   uint16
		ok     bool
	}{
		{"inet", in4, unix.AF_INET, "10.0.2.100", 8080, true},
		{"inet6", in6, unix.AF_INET6, "fd00::1", 443, true},
		{"short inet", in4[:8], 0, "invalid IP", 0, false},
		{"short inet6", in6[:20], 0, "invalid IP", 0, false},
		{"unix", unixAddr, 0, "invalid IP", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			family, addr, port, ok := parseSockaddr(tt.raw)
			if family != tt.family || addr.String() != tt.addr || port != tt.port || ok != tt.ok {
				t.Errorf("parseSockaddr = %d, %s, %d, %v; want %d, %s, %d, %v", family, addr, port, ok, tt.family, tt.addr, tt.port, tt.ok)
			}
		})
	}
}

func TestFdCloseOnExec(t *testing.T) {
	withFlag, err := os.Open("/dev/null") // Go opens files with O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer withFlag.Close()
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if !fdCloseOnExec(os.Getpid(), int(withFlag.Fd())) {
		t.Errorf("fd %d opened with O_CLOEXEC: fdCloseOnExec = false", withFlag.Fd())
	}
	if fdCloseOnExec(os.Getpid(), fd) {
		t.Errorf("fd %d opened without O_CLOEXEC: fdCloseOnExec = true", fd)
	}
}

// TestBypassReserve reserves host ports on the loopback only.
func TestBypassReserve(t *testing.T) {
	mode := Mode{Name: ModeSlirp4netns, AllowHostLoopback: true, PortHandler: PortHandlerBypass}
	b := NewBypass(mode, nil)
	defer b.Close()
	loop := netip.MustParseAddr("127.0.0.1")
	m, err := b.reserve(PortMapping{HostIP: loop, ContainerPort: 80, Proto: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	if m.HostPort == 0 {
		t.Fatal("reserve chose no host port")
	}

	// Until a server of the container binds, clients are refused.
	if c, err := net.Dial("tcp", m.HostAddress()); err == nil {
		c.Close()
		t.Errorf("a client connected to the reserved port %s", m.HostAddress())
	}
	// Nothing else binds the reserved port, with or without SO_REUSEADDR.
	if ln, err := net.Listen("tcp", m.HostAddress()); err == nil {
		ln.Close()
		t.Errorf("another socket listens on the reserved port %s", m.HostAddress())
	}

	_, err = b.reserve(PortMapping{HostIP: loop, ContainerPort: 80, Proto: "tcp"})
	if err == nil || !strings.Contains(err.Error(), "published once") {
		t.Errorf("second mapping of container port 80: error = %v, want one saying it is published once", err)
	}
	inUse, err := b.reserve(PortMapping{HostIP: loop, HostPort: m.HostPort, ContainerPort: 81, Proto: "tcp"})
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("mapping of a host port in use = %v, %v; want an error saying it is in use", inUse, err)
	}

	b.Close()
	ln, err := net.Listen("tcp", m.HostAddress())
	if err != nil {
		t.Fatalf("the port %s is still reserved after Close: %v", m.HostAddress(), err)
	}
	ln.Close()
}

func TestThreadGroup(t *testing.T) {
	done := make(chan [2]int)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid := unix.Gettid()
		tgid, err := threadGroup(tid)
		if err != nil {
			t.Error(err)
		}
		done <- [2]int{tid, tgid}
	}()
	got := <-done
	if got[1] != os.Getpid() {
		t.Errorf("threadGroup(%d) = %d, want the process id %d", got[0], got[1], os.Getpid())
	}
	pidfd, err := openThreadPidfd(got[0])
	if err != nil {
		t.Fatalf("openThreadPidfd(%d): %v", got[0], err)
	}
	unix.Close(pidfd)
}
