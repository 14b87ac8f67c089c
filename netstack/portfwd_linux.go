package netstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/gocker/gocker/internal/memtrim"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/gocker/gocker/reexec"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin"
	"github.com/rootless-containers/rootlesskit/v2/pkg/port/builtin/opaque"
	"golang.org/x/sys/unix"
)

// portChildName selects the child side of the port driver in the gocker
// binary.
const portChildName = "gocker-port-child"

// Environment of the port driver's child: the driver's socket and ready
// pipe, both in the state directory of the parent.
const (
	envPortSocket = "_GOCKER_PORT_SOCKET"
	envPortReady  = "_GOCKER_PORT_READY"
)

func init() {
	reexec.Register(portChildName, portChildMain)
}

// portForwarder publishes ports of a container with user-mode networking
// through rootlesskit's builtin port driver. The parent side runs in the
// calling process (the container's monitor) on the host and listens on
// each host port. For every connection, the child side dials the
// container port inside the container's network namespace and passes the
// socket back over a Unix socket, in rootlesskit's protocol. For UDP the
// driver's parent copies the datagrams. For TCP gocker's own loop
// (portcopy_linux.go) copies between the two sockets through a 32 KiB
// buffer, because that moved more data than the driver's splice(2) on the
// benchmark machine. The data never passes through slirp4netns or pasta.
//
//	monitor (host netns)                 port child (container's netns)
//	NewParentDriver: mkfifo ready
//	start "nsenter -t PID [-U] -n gocker" ---> RunChildDriver: listen on the
//	RunParentDriver: read ready  <-----------   socket, close the ready pipe
//	listen on the host port
//	on each connection: connect, ---------->  dial 127.0.0.1:CONTAINERPORT,
//	receive the dialed socket    <----------  send its fd (SCM_RIGHTS)
//	copy both ways
//	cleanup: close the child's stdin ----->  exit
type portForwarder struct {
	driver     port.ParentDriver
	child      *exec.Cmd
	childDone  chan struct{}
	stdin      *os.File // the child exits when it closes
	quit       chan struct{}
	parentDone chan error
	readyPipe  string
	childIP    string
	childErr   cappedBuffer // the child's stderr
	ids        []int        // ports published through the driver (UDP)
	tcp        []*tcpPort   // ports published through gocker's copy loop
	socket     string       // the driver's Unix socket
	log        *slog.Logger
}

// forwarderOptions configure [startPortForwarder].
type forwarderOptions struct {
	// Pid is a process in the container's network namespace.
	Pid      int
	Rootless bool
	// Dir keeps the driver's socket and ready pipe.
	Dir   string
	Ports []PortMapping
	// ChildIP is the container's address, which the child dials: as in
	// Docker, a published port reaches servers that listen on it or on
	// every address, not those bound to the container's loopback only.
	// Empty means 127.0.0.1.
	ChildIP string
	Log     *slog.Logger
}

// startPortForwarder starts the port driver for a container and
// publishes its ports. It returns the ports with their host ports chosen.
// The forwarder must be stopped even when it returns an error.
func startPortForwarder(ctx context.Context, opts forwarderOptions) (*portForwarder, []PortMapping, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	log := opts.Log
	driver, err := builtin.NewParentDriver(&logWriter{log: log}, opts.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("create port driver: %w", err)
	}
	opaqueMap := driver.OpaqueForChild()
	f := &portForwarder{
		driver: driver, quit: make(chan struct{}), parentDone: make(chan error, 1),
		childDone: make(chan struct{}), readyPipe: opaqueMap[opaque.ChildReadyPipePath], log: log,
		childIP: opts.ChildIP, socket: opaqueMap[opaque.SocketPath],
	}
	if err := f.startChild(opts.Pid, opts.Rootless, opaqueMap); err != nil {
		return f, nil, err
	}

	initComplete := make(chan struct{}, 1)
	go func() { f.parentDone <- driver.RunParentDriver(initComplete, f.quit, nil) }()
	select {
	case <-initComplete:
	case err := <-f.parentDone:
		f.parentDone <- err
		return f, nil, fmt.Errorf("start port driver: %w", err)
	case <-f.childDone:
		return f, nil, fmt.Errorf("start port driver: %s exited (%v): %s", strings.Join(f.child.Args, " "), f.child.ProcessState, strings.TrimSpace(f.childErr.String()))
	case <-ctx.Done():
		return f, nil, fmt.Errorf("start port driver: %w", ctx.Err())
	}

	published := make([]PortMapping, 0, len(opts.Ports))
	for _, m := range opts.Ports {
		m, err := f.publish(ctx, m)
		if err != nil {
			return f, nil, err
		}
		published = append(published, m)
	}
	return f, published, nil
}

func (f *portForwarder) startChild(pid int, rootless bool, opaqueMap map[string]string) error {
	args := []string{"--target", strconv.Itoa(pid)}
	if rootless {
		// The container's network namespace belongs to its user
		// namespace; keeping the caller's credentials there makes the
		// child root in it, since the caller's uid is mapped to 0.
		args = append(args, "--user", "--preserve-credentials")
	}
	// The child is the binary this monitor runs, passed as fd 3: once
	// nsenter is in the container's user namespace, the kernel denies it
	// /proc/MONITOR-PID/exe, but not its own open files.
	exe, err := os.Open(reexec.SelfExe)
	if err != nil {
		return fmt.Errorf("open the gocker binary: %w", err)
	}
	defer exe.Close()
	// The child only dials sockets: setpriv (util-linux, like nsenter)
	// empties its capability bounding set before it runs, so that it has
	// no capability in the container's namespaces, nor root's on the host.
	args = append(args, "--net", "--", "setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--", "/proc/self/fd/3")
	cmd := exec.Command("nsenter", args...)
	cmd.ExtraFiles = []*os.File{exe}

	cmd.Env = []string{
		reexec.EnvRole + "=" + portChildName,
		envPortSocket + "=" + opaqueMap[opaque.SocketPath],
		envPortReady + "=" + opaqueMap[opaque.ChildReadyPipePath],
	}

	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer stdinR.Close()
	cmd.Stdin = stdinR
	cmd.Stderr = &f.childErr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL}
	f.log.Debug("start port driver child", "args", cmd.Args)
	if err := cmd.Start(); err != nil {
		stdinW.Close()
		return fmt.Errorf("start port driver child: %w", err)
	}
	f.child, f.stdin = cmd, stdinW
	go func() {
		_ = cmd.Wait()
		close(f.childDone)
	}()
	return nil
}

// publish adds one port, choosing a free host port when it has none.
func (f *portForwarder) publish(ctx context.Context, m PortMapping) (PortMapping, error) {
	if m.HostPort == 0 {
		p, err := freePort(m)
		if err != nil {
			return m, err
		}
		m.HostPort = p
	}
	spec := port.Spec{Proto: m.Proto, ParentPort: int(m.HostPort), ChildPort: int(m.ContainerPort), ChildIP: f.childIP}
	if m.HostIP.IsValid() {
		spec.ParentIP = m.HostIP.String()
	}
	if m.Proto == "tcp" {
		p, err := listenTCPPort(f.socket, spec, m.ListenAddress(), f.log)
		if err != nil {
			return m, PortError(m, err, unprivilegedPortStart())
		}
		f.tcp = append(f.tcp, p)
		return m, nil
	}
	st, err := f.driver.AddPort(ctx, spec)
	if err != nil {
		return m, PortError(m, err, unprivilegedPortStart())
	}
	f.ids = append(f.ids, st.ID)
	return m, nil
}

// stop removes the ports, ends the driver and its child and waits for
// them.
func (f *portForwarder) stop(ctx context.Context) error {
	if f == nil {
		return nil
	}
	var errs []error
	for _, p := range f.tcp {
		errs = append(errs, p.close())
	}
	for _, id := range f.ids {
		errs = append(errs, f.driver.RemovePort(ctx, id))
	}
	close(f.quit)
	if f.stdin != nil {
		f.stdin.Close()
		select {
		case <-f.childDone:
		case <-time.After(2 * time.Second):
			_ = f.child.Process.Kill()
			<-f.childDone
		}
	}
	// A parent driver still waiting for the child's ready pipe gets
	// end-of-file from this writer and returns.
	select {
	case err := <-f.parentDone:
		_ = err
	default:
		if w, err := os.OpenFile(f.readyPipe, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	}
	return errors.Join(errs...)
}

// freePort gets a free port from the kernel on the mapping's host address.
// Another program may take it before the driver listens there, which the
// driver then reports as a port in use.
func freePort(m PortMapping) (uint16, error) {
	probe := m
	probe.HostPort = 0
	closer, err := bindPort(probe)
	if err != nil {
		return 0, fmt.Errorf("choose a free host port for %s: %w", m.Key(), err)
	}
	defer closer.Close()
	switch a := closer.(type) {
	case net.Listener:
		return uint16(a.Addr().(*net.TCPAddr).Port), nil
	case net.PacketConn:
		return uint16(a.LocalAddr().(*net.UDPAddr).Port), nil
	}
	return 0, errors.New("unexpected socket type")
}

// bindPort listens on the host side of m, as the port driver does.
func bindPort(m PortMapping) (io.Closer, error) {
	if m.Proto == "udp" {
		return net.ListenPacket("udp", m.ListenAddress())
	}
	return net.Listen("tcp", m.ListenAddress())
}

// portChildMain is the child side of the port driver, run by nsenter in
// the container's network namespace. It serves until its stdin closes.
func portChildMain() {
	// fd 3 is the gocker binary that nsenter executed, which also made
	// the process name "3"; ps shows the role instead.
	unix.Close(3)
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&portChildComm[0])), 0, 0, 0)
	socket, ready := os.Getenv(envPortSocket), os.Getenv(envPortReady)
	os.Unsetenv(envPortSocket)
	os.Unsetenv(envPortReady)
	quit := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(quit)
	}()
	// The child lives as long as the container and only forwards
	// connections; its memory is kept as the monitor's is.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(portChildMemoryLimit)
	go func() {
		time.Sleep(portChildTrimAfter)
		memtrim.Trim()
		memtrim.Watch(portChildTrimInterval, quit)
	}()
	driver := builtin.NewChildDriver(os.Stderr)
	err := driver.RunChildDriver(map[string]string{opaque.SocketPath: socket, opaque.ChildReadyPipePath: ready}, quit, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "gocker port driver child: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// The port driver child's memory settings: the Go heap is collected only
// near the limit, and the binary's pages are dropped shortly after the
// start and whenever the resident size has grown again.
const (
	portChildMemoryLimit  = 16 << 20
	portChildTrimAfter    = time.Second
	portChildTrimInterval = 30 * time.Second
)

// portChildComm is the process name of the port driver's child, at most
// 15 bytes and NUL-terminated.
var portChildComm = []byte("gocker-port\x00")

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, helperTimeout)
}

// cappedBuffer keeps the first 4 KiB written to it: enough for the error
// of a child that fails, and bounded for one that logs for days.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 4096 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logWriter turns the port driver's log lines into debug records.
type logWriter struct{ log *slog.Logger }

func (w *logWriter) Write(p []byte) (int, error) {
	w.log.Debug(string(trimNewline(p)), "role", "port-driver")
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}
