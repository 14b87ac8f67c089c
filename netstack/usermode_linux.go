package netstack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Addresses of slirp4netns's default network 10.0.2.0/24 (slirp4netns(1)).
const (
	slirpAddress    = "10.0.2.100"
	slirpGateway    = "10.0.2.2"
	slirpNameserver = "10.0.2.3"
	slirpPrefixLen  = 24
	// slirpMTU is the MTU Podman and rootlesskit give slirp4netns: larger
	// frames mean fewer trips through libslirp.
	slirpMTU = 65520
)

// pastaNameserver is the link-local address where pasta answers DNS
// queries by forwarding them to the host's first nameserver
// (--dns-forward), so that a host resolver on 127.0.0.53 works too. Podman
// uses the same address.
const pastaNameserver = "169.254.1.1"

// helperTimeout bounds the start of slirp4netns, pasta and the port
// driver when the caller's context has no deadline.
const helperTimeout = 10 * time.Second

// helperProcess is a running slirp4netns or pasta.
type helperProcess struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	// exitW, when set, is the write end of slirp4netns's --exit-fd:
	// closing it asks slirp4netns to exit.
	exitW *os.File
	done  chan struct{}
}

// stop ends the helper, politely first, and waits for it.
func (h *helperProcess) stop(context.Context) error {
	if h == nil {
		return nil
	}
	if h.exitW != nil {
		h.exitW.Close()
	} else {
		_ = h.cmd.Process.Signal(unix.SIGTERM)
	}
	select {
	case <-h.done:
	case <-time.After(2 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
	}
	return nil
}

func startHelper(cmd *exec.Cmd, rootless bool) (*helperProcess, error) {
	h := &helperProcess{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = h.stderr
	// The helper dies with the monitor, so that a killed monitor leaves
	// no helper behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL}
	if !rootless {
		// Run as root, slirp4netns 1.2.0's --enable-sandbox makes only "/"
		// private before it detaches the old root, and the detach
		// propagated to the caller's namespace: it unmounted the shared
		// /run/netns/* of "ip netns". A mount namespace of the helper's
		// own, which Go makes private recursively, keeps that inside.
		// Rootless, the kernel stops the propagation already, because
		// the helper's mount namespace belongs to another user namespace.
		cmd.SysProcAttr.Unshareflags = unix.CLONE_NEWNS
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() {
		_ = cmd.Wait()
		close(h.done)
	}()
	return h, nil
}

// failure describes a helper that did not become ready, with its argv and
// output.
func (h *helperProcess) failure(err error) error {
	_ = h.stop(context.Background())
	out := strings.TrimSpace(h.stderr.String())
	if h.cmd.ProcessState != nil && h.cmd.ProcessState.Exited() {
		err = fmt.Errorf("%w (%s)", err, h.cmd.ProcessState)
	}
	return fmt.Errorf("%s: %w: %s", strings.Join(h.cmd.Args, " "), err, out)
}

// startSlirp4netns connects the network namespace of pid to the host
// through slirp4netns, which configures tap0 in it, and waits until it is
// ready.
func startSlirp4netns(ctx context.Context, pid int, mode Mode, rootless bool, log *slog.Logger) (*helperProcess, Settings, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, Settings{}, err
	}
	defer readyR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, Settings{}, err
	}
	args := []string{
		"--configure", "--mtu=" + strconv.Itoa(slirpMTU),
		"--enable-sandbox", "--enable-seccomp",
		"--ready-fd=3", "--exit-fd=4",
	}
	if !mode.AllowHostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	args = append(args, strconv.Itoa(pid), "tap0")
	cmd := exec.Command("slirp4netns", args...)
	cmd.ExtraFiles = []*os.File{readyW, exitR}
	log.Debug("start slirp4netns", "args", cmd.Args)
	h, err := startHelper(cmd, rootless)
	readyW.Close()
	exitR.Close()
	if err != nil {
		exitW.Close()
		return nil, Settings{}, err
	}
	h.exitW = exitW
	if err := waitReadyFD(ctx, readyR); err != nil {
		return nil, Settings{}, h.failure(err)
	}
	s := Settings{
		IPAddress: slirpAddress, IPPrefixLen: slirpPrefixLen, Gateway: slirpGateway,
		Nameservers: []string{slirpNameserver},
	}
	return h, s, nil
}

// waitReadyFD waits for slirp4netns to write "1" to its ready pipe.
func waitReadyFD(ctx context.Context, r *os.File) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(helperTimeout)
	}
	_ = r.SetReadDeadline(deadline)
	buf := make([]byte, 1)
	n, err := r.Read(buf)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errors.New("not ready in time")
	case errors.Is(err, io.EOF) || n == 0:
		return errors.New("exited before it was ready")
	case err != nil:
		return err
	case buf[0] != '1':
		return fmt.Errorf("unexpected ready message %q", buf[:n])
	}
	return nil
}

// startPasta connects the network namespace of pid to the host through
// pasta in the foreground, and waits until it has configured the
// namespace: pasta writes its pid file after that.
func startPasta(ctx context.Context, pid int, mode Mode, runDir string, rootless bool, log *slog.Logger) (*helperProcess, Settings, error) {
	pidFile := filepath.Join(runDir, "pasta.pid")
	args := []string{
		"--config-net", "--quiet", "--foreground", "--pid", pidFile,
		"--dns-forward", pastaNameserver,
		// pasta forwards every port bound in the namespace unless told
		// otherwise; ports are published by gocker's port driver only.
		"--tcp-ports", "none", "--udp-ports", "none",
		"--tcp-ns", "none", "--udp-ns", "none",
	}
	// NOTE: allow_host_loopback with pasta relies on pasta's default
	// mapping of the gateway's address to the host. No test covers it,
	// because a mapping that failed would send the test's traffic to the
	// real gateway.
	if !mode.AllowHostLoopback {
		args = append(args, "--no-map-gw")
	}
	args = append(args, strconv.Itoa(pid))
	cmd := exec.Command("pasta", args...)
	log.Debug("start pasta", "args", cmd.Args)
	h, err := startHelper(cmd, rootless)
	if err != nil {
		return nil, Settings{}, err
	}
	if err := waitFile(ctx, pidFile, h.done); err != nil {
		return nil, Settings{}, h.failure(err)
	}
	s := Settings{Nameservers: []string{pastaNameserver}}
	// pasta copies the address and default gateway of the host's
	// interface with the default route.
	if gw, dev, err := defaultRoute("/proc/net/route"); err == nil {
		s.Gateway = gw.String()
		if addr, prefix, err := interfaceIPv4(dev); err == nil {
			s.IPAddress, s.IPPrefixLen = addr, prefix
		}
	}
	return h, s, nil
}

// waitFile polls for a non-empty file until the deadline or until exited
// is closed.
func waitFile(ctx context.Context, path string, exited <-chan struct{}) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(helperTimeout)
	}
	for delay := 200 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			return errors.New("not ready in time")
		}
	}
}

// defaultRoute reads the IPv4 default route from /proc/net/route.
func defaultRoute(path string) (net.IP, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	return parseDefaultRoute(f)
}

func interfaceIPv4(name string) (string, int, error) {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return "", 0, err
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return "", 0, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			ones, _ := n.Mask.Size()
			return n.IP.String(), ones, nil
		}
	}
	return "", 0, fmt.Errorf("%s has no IPv4 address", name)
}

// parseDefaultRoute finds the IPv4 default route in the format of
// /proc/net/route: hexadecimal little-endian addresses, destination 0.
func parseDefaultRoute(r io.Reader) (net.IP, string, error) {
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		f := strings.Fields(scanner.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		gw, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil {
			continue
		}
		ip := net.IPv4(byte(gw), byte(gw>>8), byte(gw>>16), byte(gw>>24))
		return ip, f[0], nil
	}
	if err := scanner.Err(); err != nil {
		return nil, "", err
	}
	return nil, "", errors.New("no IPv4 default route")
}
