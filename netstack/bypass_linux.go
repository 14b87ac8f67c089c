package netstack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Bypass publishes TCP ports without a forwarding process
// (--network slirp4netns:port_handler=bypass, and the same for pasta).
// The monitor binds each host port itself, without listening, so that
// the port stays reserved and clients are refused until a server runs.
// The container's init installs a seccomp filter that turns the
// command's bind(2) calls into notifications for the monitor. A server
// may bind a published container port on an address other than
// loopback. The monitor then binds a host socket with the server's
// options to the host port, puts it in place of the server's socket
// (SECCOMP_IOCTL_NOTIF_ADDFD) and returns success for the bind. The
// server then listens and accepts its clients straight from the host's
// network namespace, and the data takes the kernel's loopback path with
// no copy in between. The monitor keeps no copy of that socket: when the
// server closes it, the host port is free and clients are refused, and a
// second bind of the port fails as it would without the bypass.
//
// What changes for the container: its server's socket lives in the
// host's network namespace, so the container's own clients cannot reach
// that port through the container's loopback, and getsockname(2) shows
// the host's address and port. Processes that `gocker exec` starts are
// not covered: their servers bind in the container's namespace.
//
// A TCP socket of the host's namespace could be disconnected
// (connect(2) with AF_UNSPEC) and connected to a service on the host's
// loopback, which the container's own network cannot reach. Every socket
// handed over therefore carries a locked classic BPF socket filter that
// drops incoming SYN-ACK segments: a connection that the container
// initiates from it never completes. Sockets that accept(2) returns
// inherit the filter; they never receive a SYN-ACK either. Current
// kernels reject socket filters on TCP sockets for users without
// CAP_NET_ADMIN in the host's network namespace. For them the ports are
// published without the filter only with allow_host_loopback=true, with
// which the container reaches the host's loopback anyway.
//
// NOTE: a user's sockets with the filter (kernels that allow it) have not
// been tested: the kernels tried reject it, and root's test covers the
// filter itself.
type Bypass struct {
	log     *slog.Logger
	network string // slirp4netns or pasta, for messages
	// allowHostLoopback publishes ports without the SYN-ACK filter when
	// the kernel rejects it.
	allowHostLoopback bool

	mu    sync.Mutex
	ports map[uint16]*bypassPort // by container port
	stop  *os.File               // closing it ends serve
	wake  *os.File               // serve's end of the stop pipe
	done  chan struct{}
}

// bypassPort is the host side of one published TCP port.
type bypassPort struct {
	mapping PortMapping
	// reserved is the socket bound to the host port until the first
	// server's bind, or -1.
	reserved int
}

// NewBypass returns a Bypass with no ports for a container of mode.
func NewBypass(mode Mode, log *slog.Logger) *Bypass {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bypass{log: log, network: mode.Name, allowHostLoopback: mode.AllowHostLoopback, ports: map[uint16]*bypassPort{}}
}

// reserve takes the host side of m: a socket with the SYN-ACK filter,
// bound but not listening. It returns m with its host port chosen.
func (b *Bypass) reserve(m PortMapping) (PortMapping, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if other, ok := b.ports[m.ContainerPort]; ok {
		return m, fmt.Errorf("publish %s: %w", m, publishedTwiceError(other.mapping, b.network))
	}
	family := unix.AF_INET
	if m.HostIP.Is6() {
		family = unix.AF_INET6
	}
	// Without SO_REUSEADDR no other socket can bind the port while it is
	// reserved. A port that only closed connections in TIME_WAIT hold
	// needs the option, which still fails when a socket listens there.
	o := hostSocketOptions{family: family, ip: m.HostIP, port: m.HostPort, v6only: true, unfiltered: b.allowHostLoopback}
	fd, port, err := bindHostSocket(o)
	if errors.Is(err, unix.EADDRINUSE) && m.HostPort != 0 {
		o.reuseAddr = true
		fd, port, err = bindHostSocket(o)
	}
	if errors.Is(err, errFilterRejected) {
		return m, fmt.Errorf("publish %s: %w: without the filter the container's server could connect from the host's network namespace to services on the host's loopback; add allow_host_loopback=true to the --network options to accept that, or use port_handler=rootlesskit", m, err)
	}
	if err != nil {
		return m, PortError(m, err, unprivilegedPortStart())
	}
	m.HostPort = port
	b.ports[m.ContainerPort] = &bypassPort{mapping: m, reserved: fd}
	return m, nil
}

// publishedTwiceError is the error for a second TCP mapping of the
// container port that other publishes, in the network mode named network.
func publishedTwiceError(other PortMapping, network string) error {
	return fmt.Errorf("with port_handler=bypass a container's TCP port is published once, and %s publishes it already: publish it once, or use --network %s:port_handler=rootlesskit", other, network)
}

// CheckBypassPorts fails when ports publish a TCP container port twice
// in a mode with port_handler=bypass, where one server socket takes each.
func CheckBypassPorts(mode Mode, ports []PortMapping) error {
	if !mode.Bypass() {
		return nil
	}
	seen := map[uint16]PortMapping{}
	for _, m := range ports {
		if m.Proto != "tcp" {
			continue
		}
		if other, ok := seen[m.ContainerPort]; ok {
			return fmt.Errorf("invalid --publish %s: %w", m, publishedTwiceError(other, mode.Name))
		}
		seen[m.ContainerPort] = m
	}
	return nil
}

// errFilterRejected means the kernel rejected the SYN-ACK filter.
var errFilterRejected = errors.New("the kernel rejected the socket filter that keeps the handed-over socket from connecting out (setsockopt SO_ATTACH_FILTER: operation not permitted)")

// hostSocketOptions are the settings of a host socket that
// [bindHostSocket] creates.
type hostSocketOptions struct {
	family int // AF_INET or AF_INET6
	// ip is the address to bind, the zero Addr for every address. An
	// IPv4 address on an AF_INET6 socket is bound in its mapped form.
	ip   netip.Addr
	port uint16 // 0 picks a free port
	// reuseAddr, reusePort and v6only are the socket options
	// SO_REUSEADDR, SO_REUSEPORT and IPV6_V6ONLY.
	reuseAddr, reusePort, v6only bool
	// unfiltered allows a socket without the SYN-ACK filter when the
	// kernel rejects it. Otherwise that fails with errFilterRejected.
	unfiltered bool
}

// bindHostSocket creates a TCP socket in the monitor's network namespace
// with the SYN-ACK filter locked on it, and binds it. It returns the
// socket and its port.
func bindHostSocket(o hostSocketOptions) (int, uint16, error) {
	fd, err := unix.Socket(o.family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, 0, os.NewSyscallError("socket", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()

	if err := setBoolOption(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, o.reuseAddr, "SO_REUSEADDR"); err != nil {
		return -1, 0, err
	}
	if err := setBoolOption(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, o.reusePort, "SO_REUSEPORT"); err != nil {
		return -1, 0, err
	}
	if o.family == unix.AF_INET6 {
		if err := setBoolOption(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, o.v6only, "IPV6_V6ONLY"); err != nil {
			return -1, 0, err
		}
	}

	err = attachSynAckFilter(fd)
	if err != nil && !(errors.Is(err, errFilterRejected) && o.unfiltered) {
		return -1, 0, err
	}

	var sa unix.Sockaddr
	if o.family == unix.AF_INET6 {
		a := &unix.SockaddrInet6{Port: int(o.port)}
		if o.ip.IsValid() && !o.ip.IsUnspecified() {
			a.Addr = o.ip.As16()
		}
		sa = a
	} else {
		a := &unix.SockaddrInet4{Port: int(o.port)}
		if o.ip.IsValid() {
			a.Addr = o.ip.As4()
		}
		sa = a
	}
	if err := unix.Bind(fd, sa); err != nil {
		return -1, 0, os.NewSyscallError("bind", err)
	}

	port, err := localPort(fd)
	if err != nil {
		return -1, 0, err
	}
	ok = true
	return fd, port, nil
}

// setBoolOption sets the socket option name of level, called label in
// errors, to 1 when on and to 0 otherwise.
func setBoolOption(fd, level, name int, on bool, label string) error {
	value := 0
	if on {
		value = 1
	}
	if err := unix.SetsockoptInt(fd, level, name, value); err != nil {
		return os.NewSyscallError("setsockopt("+label+")", err)
	}
	return nil
}

// localPort returns the port that the TCP socket fd is bound to, 0 when
// it is not bound.
func localPort(fd int) (uint16, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, os.NewSyscallError("getsockname", err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return uint16(a.Port), nil
	case *unix.SockaddrInet6:
		return uint16(a.Port), nil
	}
	return 0, nil
}

// attachSynAckFilter attaches and locks a socket filter that drops TCP
// segments with both SYN and ACK set. For a TCP socket, offset 0 of the
// filter's data is the TCP header, whose byte 13 contains the flags. A
// kernel that rejects the filter for the caller gives errFilterRejected.
func attachSynAckFilter(fd int) error {
	const synAck = 0x12
	insns := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 13},
		{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: synAck},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: synAck, Jt: 0, Jf: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0xffffffff},
	}
	prog := &unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, prog)
	if errors.Is(err, unix.EPERM) {
		return errFilterRejected
	}
	if err != nil {
		return os.NewSyscallError("setsockopt(SO_ATTACH_FILTER)", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_LOCK_FILTER, 1); err != nil {
		return os.NewSyscallError("setsockopt(SO_LOCK_FILTER)", err)
	}
	return nil
}

// Serve responds to the bind notifications of listener, the init's bind
// filter, until [Bypass.Close] or until no process uses the filter any
// more. It takes listener over and returns at once.
func (b *Bypass) Serve(listener *os.File) error {
	r, w, err := os.Pipe()
	if err != nil {
		listener.Close()
		return err
	}
	b.mu.Lock()
	if b.done != nil {
		b.mu.Unlock()
		listener.Close()
		r.Close()
		w.Close()
		return errors.New("the bind listener is served already")
	}
	b.stop, b.wake, b.done = w, r, make(chan struct{})
	b.mu.Unlock()
	go func() {
		defer close(b.done)
		defer listener.Close()
		defer r.Close()
		b.serve(int(listener.Fd()), int(r.Fd()))
	}()
	return nil
}

// Close stops serving and closes the host sockets. Sockets that servers
// of the container received stay open in the container until it ends.
func (b *Bypass) Close() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	stop, done := b.stop, b.done
	b.stop = nil
	b.mu.Unlock()
	if stop != nil {
		stop.Close()
		<-done
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, p := range b.ports {
		if p.reserved >= 0 {
			unix.Close(p.reserved)
		}
		delete(b.ports, k)
	}
	return nil
}

// seccompNotif is struct seccomp_notif.
type seccompNotif struct {
	id    uint64
	pid   uint32
	flags uint32
	nr    int32
	arch  uint32
	ip    uint64
	args  [6]uint64
}

// seccompNotifResp is struct seccomp_notif_resp.
type seccompNotifResp struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

// seccompNotifAddfd is struct seccomp_notif_addfd.
type seccompNotifAddfd struct {
	id         uint64
	flags      uint32
	srcfd      uint32
	newfd      uint32
	newfdFlags uint32
}

func (b *Bypass) serve(listener, wake int) {
	fds := []unix.PollFd{{Fd: int32(listener), Events: unix.POLLIN}, {Fd: int32(wake), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			b.log.Debug("poll the bind listener", "err", err)
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			// POLLHUP: no process uses the filter any more.
			return
		}
		var req seccompNotif
		if err := ioctlPtr(listener, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&req)); err != nil {
			// ENOENT: the caller died or was interrupted before the
			// notification was read.
			if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINTR) {
				b.log.Debug("receive a bind notification", "err", err)
			}
			continue
		}
		resp := b.handle(listener, &req)
		resp.id = req.id
		if err := ioctlPtr(listener, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)); err != nil && !errors.Is(err, unix.ENOENT) {
			b.log.Debug("respond to a bind notification", "id", req.id, "err", err)
		}
	}
}

// continueResp lets the kernel run the system call as the caller made it.
var continueResp = seccompNotifResp{flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}

// handle decides one bind(2) call. It hands the host socket over and
// returns success, or lets the call run in the container's namespace.
// The caller's memory is read only to choose, because a bind that runs
// uses the caller's own arguments, whatever they are by then.
func (b *Bypass) handle(listener int, req *seccompNotif) seccompNotifResp {
	if req.nr != unix.SYS_BIND {
		return continueResp
	}
	pid, fd := int(req.pid), int(int32(req.args[0]))
	addrLen := req.args[2]
	if addrLen < 2 || addrLen > unix.SizeofSockaddrAny {
		return continueResp
	}
	raw := make([]byte, addrLen)
	n, err := unix.ProcessVMReadv(pid, []unix.Iovec{{Base: &raw[0], Len: addrLen}}, []unix.RemoteIovec{{Base: uintptr(req.args[1]), Len: int(addrLen)}}, 0)
	if err != nil || uint64(n) != addrLen {
		return continueResp
	}

	family, addr, port, ok := parseSockaddr(raw)
	b.log.Debug("bind notification", "pid", pid, "fd", fd, "family", family, "address", addr, "port", port)
	if !ok || addr.IsLoopback() || (addr.Is4In6() && addr.Unmap().IsLoopback()) {
		return continueResp
	}
	b.mu.Lock()
	p := b.ports[port]
	b.mu.Unlock()
	if p == nil {
		return continueResp
	}

	sock, err := b.peerSocket(listener, req, pid, fd)
	if err != nil {
		b.log.Debug("bind of a published port stays in the container", "port", port, "err", err)
		return continueResp
	}
	defer unix.Close(sock)
	if !isTCPSocket(sock, family) || isBound(sock) {
		// A second bind of a socket fails in the container, as it should.
		return continueResp
	}

	host, errno := b.hostSocket(p, sock, family)
	if errno != 0 {
		return seccompNotifResp{error: -int32(errno)}
	}
	if host < 0 {
		b.log.Debug("bind of a published port stays in the container: its socket cannot serve the host address", "port", p.mapping.String(), "family", family)
		return continueResp
	}
	defer unix.Close(host)
	if fl, err := unix.FcntlInt(uintptr(sock), unix.F_GETFL, 0); err == nil && fl&unix.O_NONBLOCK != 0 {
		_ = unix.SetNonblock(host, true)
	}

	add := seccompNotifAddfd{id: req.id, flags: unix.SECCOMP_ADDFD_FLAG_SETFD, srcfd: uint32(host), newfd: uint32(fd)}
	if fdCloseOnExec(pid, fd) {
		add.newfdFlags = unix.O_CLOEXEC
	}
	if err := ioctlPtr(listener, unix.SECCOMP_IOCTL_NOTIF_ADDFD, unsafe.Pointer(&add)); err != nil {
		b.log.Debug("hand the host socket over", "port", port, "err", err)
		return continueResp
	}
	b.log.Debug("handed a host socket of a published port to a server", "port", p.mapping.String(), "pid", pid, "fd", fd)
	return seccompNotifResp{}
}

// peerSocket returns a copy of the caller's file descriptor fd. It checks
// that the notification is still valid once the pidfd is open, so the
// pidfd refers to the caller and not to a process that reused its pid.
func (b *Bypass) peerSocket(listener int, req *seccompNotif, pid, fd int) (int, error) {
	pidfd, err := openThreadPidfd(pid)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pidfd)
	id := req.id
	if err := ioctlPtr(listener, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)); err != nil {
		return -1, fmt.Errorf("the caller is gone: %w", err)
	}
	sock, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, os.NewSyscallError("pidfd_getfd", err)
	}
	return sock, nil
}

// pidfdThread is PIDFD_THREAD of pidfd_open(2), Linux 6.9 and later: a
// pidfd of one thread rather than of a thread group.
const pidfdThread = unix.O_EXCL

// openThreadPidfd returns a pidfd for tid, the thread that made a system
// call: the notification names the thread, which is not the process's
// first thread when a server binds from another one. Kernels before 6.9
// open pidfds of thread-group leaders only. There the pidfd is the
// leader's, whose file descriptors the thread shares unless it was
// created without CLONE_FILES.
func openThreadPidfd(tid int) (int, error) {
	pidfd, err := unix.PidfdOpen(tid, pidfdThread)
	if err == nil {
		return pidfd, nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return -1, os.NewSyscallError("pidfd_open", err)
	}
	tgid, err := threadGroup(tid)
	if err != nil {
		return -1, err
	}
	pidfd, err = unix.PidfdOpen(tgid, 0)
	if err != nil {
		return -1, os.NewSyscallError("pidfd_open", err)
	}
	return pidfd, nil
}

// threadGroup returns the process id (Tgid) of thread tid.
func threadGroup(tid int) (int, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no Tgid line", tid)
}

// isTCPSocket reports whether fd is a TCP socket of family. A Multipath
// TCP socket counts: Go's net.Listen makes one where the kernel has
// MPTCP, and its clients speak plain TCP, as the host socket does.
func isTCPSocket(fd, family int) bool {
	domain, err1 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	typ, err2 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	proto, err3 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	return err1 == nil && err2 == nil && err3 == nil && domain == family && typ == unix.SOCK_STREAM &&
		(proto == unix.IPPROTO_TCP || proto == unix.IPPROTO_MPTCP)
}

// isBound reports whether fd has a local port already.
func isBound(fd int) bool {
	port, err := localPort(fd)
	return err == nil && port != 0
}

// hostSocket binds a new host socket for p with the options of server,
// a socket of family. It returns -1 when the socket cannot serve p's
// host address, and the bind stays in the container, or the errno of a
// failed bind (EADDRINUSE when another socket holds the port). The
// first call releases the reservation of the port.
func (b *Bypass) hostSocket(p *bypassPort, server, family int) (int, unix.Errno) {
	o := hostSocketOptions{family: family, port: p.mapping.HostPort, unfiltered: b.allowHostLoopback}
	hostIP := p.mapping.HostIP
	switch {
	case family == unix.AF_INET && hostIP.Is6():
		return -1, 0
	case family == unix.AF_INET6:
		v6only, err := unix.GetsockoptInt(server, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
		if err != nil || (v6only != 0 && !hostIP.Is6() && hostIP.IsValid()) {
			// An IPv6-only socket cannot take a host address of IPv4.
			return -1, 0
		}
		o.v6only = v6only != 0
	}
	o.ip = hostIP
	reuseAddr, err1 := unix.GetsockoptInt(server, unix.SOL_SOCKET, unix.SO_REUSEADDR)
	reusePort, err2 := unix.GetsockoptInt(server, unix.SOL_SOCKET, unix.SO_REUSEPORT)
	if err1 != nil || err2 != nil {
		return -1, 0
	}
	o.reuseAddr, o.reusePort = reuseAddr != 0, reusePort != 0

	b.mu.Lock()
	if p.reserved >= 0 {
		unix.Close(p.reserved)
		p.reserved = -1
	}
	b.mu.Unlock()
	fd, _, err := bindHostSocket(o)
	if err != nil {
		var errno unix.Errno
		if !errors.As(err, &errno) {
			errno = unix.EADDRINUSE
		}
		b.log.Debug("bind a host socket for a server", "port", p.mapping.String(), "err", err)
		return -1, errno
	}
	return fd, 0
}

// parseSockaddr decodes a struct sockaddr_in or sockaddr_in6.
func parseSockaddr(raw []byte) (family int, addr netip.Addr, port uint16, ok bool) {
	family = int(binary.NativeEndian.Uint16(raw))
	switch {
	case family == unix.AF_INET && len(raw) >= unix.SizeofSockaddrInet4:
		addr = netip.AddrFrom4([4]byte(raw[4:8]))
	case family == unix.AF_INET6 && len(raw) >= unix.SizeofSockaddrInet6:
		addr = netip.AddrFrom16([16]byte(raw[8:24]))
	default:
		return 0, netip.Addr{}, 0, false
	}
	return family, addr, binary.BigEndian.Uint16(raw[2:]), true
}

// fdCloseOnExec reports whether fd of process pid has FD_CLOEXEC, from
// the "flags:" line of /proc/PID/fdinfo/FD (octal, O_CLOEXEC included).
func fdCloseOnExec(pid, fd int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&unix.O_CLOEXEC != 0
		}
	}
	return false
}

func ioctlPtr(fd int, req uint, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}
