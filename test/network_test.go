//go:build integration

package test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var necho struct {
	sync.Once
	path string
	err  error
}

// netecho builds test/testdata/netecho, the static echo server and
// client the network tests run in containers and namespaces.
func netecho(t *testing.T) string {
	t.Helper()
	necho.Do(func() {
		necho.path = filepath.Join(env.workDir, "netecho")
		cmd := exec.Command("go", "build", "-o", necho.path, "./testdata/netecho")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			necho.err = fmt.Errorf("build netecho: %v\n%s", err, out)
		}
	})
	if necho.err != nil {
		t.Fatal(necho.err)
	}
	return necho.path
}

// echoMount is the -v value that puts netecho at /netecho.
func echoMount(t *testing.T) string { return netecho(t) + ":/netecho:ro" }

// freeHostPort returns a TCP and UDP port that nothing on the host's
// loopback uses right now.
func freeHostPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// exchange sends msg to addr over proto from the calling process (the
// host's network namespace) and returns the reply, retrying while the
// container's server starts.
func exchange(t *testing.T, proto, addr, msg string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		answer, err := exchangeOnce(proto, addr, msg)
		if err == nil {
			return answer
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s %s: no answer within 20s: %v", proto, addr, lastErr)
	return ""
}

func exchangeOnce(proto, addr, msg string) (string, error) {
	c, err := net.DialTimeout(proto, addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if proto == "udp" {
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		buf := make([]byte, 1024)
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	if _, err := fmt.Fprintln(c, msg); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// echoServers is the container command that serves TCP and UDP echo on
// port 7 and then waits.
const echoServers = "/netecho serve tcp :7 & /netecho serve udp :7 & sleep 600"

// requireUserModeTool skips unless the tool is installed.
func requireUserModeTool(t *testing.T, name string) {
	t.Helper()
	requireBinary(t, name)
	requireBinary(t, "nsenter")
}

func TestUserModePublishedPorts(t *testing.T) {
	for _, mode := range []string{"slirp4netns", "pasta"} {
		t.Run(mode, func(t *testing.T) {
			requireUserModeTool(t, mode)
			g := newRootless(t)
			g.busybox(t)
			tcpPort, udpPort, loopPort, sumPort := freeHostPort(t), freeHostPort(t), freeHostPort(t), freeHostPort(t)
			// Port 9 listens on the container's loopback only, which a
			// published port does not reach, as in Docker.
			e, pid := startContainer(t, g, "--name", "web", "--network", mode, "-v", echoMount(t),
				"-p", fmt.Sprintf("%d:7", tcpPort), "-p", fmt.Sprintf("127.0.0.1:%d:7/udp", udpPort), "-p", "7",
				"-p", fmt.Sprintf("%d:9", loopPort), "-p", fmt.Sprintf("%d:8", sumPort),
				"busybox", "sh", "-c", "/netecho serve tcp 127.0.0.1:9 & /netecho serve sum :8 & "+echoServers)
			if got := exchange(t, "tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), "hello"); got != "echo:hello" {
				t.Errorf("TCP answer = %q, want echo:hello", got)
			}
			assertStreamIntact(t, fmt.Sprintf("127.0.0.1:%d", sumPort), 24<<20)
			openConn := holdConnection(t, fmt.Sprintf("127.0.0.1:%d", tcpPort))
			if got, err := exchangeOnce("tcp", fmt.Sprintf("127.0.0.1:%d", loopPort), "private"); err == nil {
				t.Errorf("a server on the container's loopback answered %q through a published port", got)
			}
			assertPortChildUnprivileged(t, g.acct.uid)
			if got := exchange(t, "udp", fmt.Sprintf("127.0.0.1:%d", udpPort), "ping"); got != "echo:ping" {
				t.Errorf("UDP answer = %q, want echo:ping", got)
			}
			address := g.field(t, "web", "{{.NetworkSettings.IPAddress}}")
			if net.ParseIP(address) == nil {
				t.Errorf("inspect NetworkSettings.IPAddress = %q, want the container's address", address)
			}
			gateway := g.field(t, "web", "{{.NetworkSettings.Gateway}}")
			prefix := g.field(t, "web", "{{.NetworkSettings.IPPrefixLen}}")
			assertInspectNetwork(t, g, "web", mode, address+" "+gateway+" "+prefix)
			udpPorts := g.field(t, "web", `{{json (index .NetworkSettings.Ports "7/udp")}}`)
			if want := fmt.Sprintf(`[{"HostIp":"127.0.0.1","HostPort":"%d"}]`, udpPort); udpPorts != want {
				t.Errorf("inspect NetworkSettings.Ports 7/udp = %s, want %s", udpPorts, want)
			}
			ports := g.ok("port", "web")
			wantTCP := fmt.Sprintf("7/tcp -> 0.0.0.0:%d\n", tcpPort)
			wantUDP := fmt.Sprintf("7/udp -> 127.0.0.1:%d\n", udpPort)
			if !strings.Contains(ports, wantTCP) || !strings.Contains(ports, wantUDP) {
				t.Errorf("gocker port = %q, want lines %q and %q", ports, wantTCP, wantUDP)
			}
			// "-p 7" published a random host port as well.
			random := regexp.MustCompile(`\b7/tcp -> 0\.0\.0\.0:(\d+)`).FindAllStringSubmatch(ports, -1)
			if len(random) != 2 {
				t.Fatalf("gocker port = %q, want two TCP mappings of port 7", ports)
			}
			for _, m := range random {
				if m[1] != strconv.Itoa(tcpPort) {
					if got := exchange(t, "tcp", "127.0.0.1:"+m[1], "random"); got != "echo:random" {
						t.Errorf("answer on the random port %s = %q", m[1], got)
					}
				}
			}
			stopPublishing(t, g, e, pid, tcpPort, openConn)
		})
	}
}

// stopPublishing stops the container "web", whose published port tcpPort
// openConn is connected through, and checks that nothing of its published
// ports is left: no helper process, no host port, no open connection.
func stopPublishing(t *testing.T, g *gocker, e *execution, pid, tcpPort int, openConn net.Conn) {
	t.Helper()
	stopContainer(t, g, e, pid, "web")
	assertNoHelpers(t, g)
	if _, err := exchangeOnce("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), "x"); err == nil {
		t.Errorf("host port %d still answers after the container stopped", tcpPort)
	}
	assertConnectionEnded(t, openConn)
}

// assertStreamIntact sends size random bytes to a "netecho serve sum"
// server at addr, half-closes the connection and fails unless the server
// counted every byte with the same SHA-256.
func assertStreamIntact(t *testing.T, addr string, size int) {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatalf("send %d bytes to %s: %v", size, addr, err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	answer, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read the sum from %s: %v", addr, err)
	}
	if want := fmt.Sprintf("%d %x\n", size, sha256.Sum256(data)); string(answer) != want {
		t.Errorf("server at %s received %q, want %q", addr, answer, want)
	}
}

// holdConnection opens a connection to the echo server at addr and checks
// one echo on it. The caller keeps it open while the container stops.
func holdConnection(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(c, "held"); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(c).ReadString('\n'); line != "echo:held\n" {
		t.Fatalf("held connection to %s answered %q (%v), want echo:held", addr, line, err)
	}
	return c
}

// assertConnectionEnded fails unless c, open through a published port
// of a container that stopped, was ended rather than left hanging.
func assertConnectionEnded(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 64))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("a connection through the published port still reads (%d bytes, %v) after the container stopped", n, err)
	}
}

// assertPortChildUnprivileged fails unless a port driver child of uid
// runs without capabilities and with no_new_privs.
func assertPortChildUnprivileged(t *testing.T, uid int) {
	t.Helper()
	found := false
	for _, pid := range processesOf(uid) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) != "gocker-port" {
			continue
		}
		found = true
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, want := range []string{"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1"} {
			if !strings.Contains(string(status), want) {
				t.Errorf("port driver child %d: status lacks %q", pid, want)
			}
		}
	}
	if !found {
		t.Errorf("no port driver child (gocker-port) of uid %d runs", uid)
	}
}

// assertInspectNetwork fails unless gocker inspect shows the container's
// address, gateway and prefix length, want ("172.18.0.2 172.18.0.1 24"),
// both at the top of NetworkSettings and under Networks.NETWORK.
func assertInspectNetwork(t *testing.T, g *gocker, name, network, want string) {
	t.Helper()
	top := g.field(t, name, "{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}}")
	if top != want {
		t.Errorf("inspect NetworkSettings IPAddress, Gateway, IPPrefixLen = %q, want %q", top, want)
	}
	format := fmt.Sprintf("{{with index .NetworkSettings.Networks %q}}{{.IPAddress}} {{.Gateway}} {{.IPPrefixLen}}{{end}}", network)
	if got := g.field(t, name, format); got != want {
		t.Errorf("inspect NetworkSettings.Networks.%s IPAddress, Gateway, IPPrefixLen = %q, want %q", network, got, want)
	}
}

// stopContainer kills the container's process, waits for gocker run to
// exit, checks that the stopped container lists no ports and removes it.
func stopContainer(t *testing.T, g *gocker, e *execution, pid int, name string) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := e.exitCode(t); code != 137 {
		t.Errorf("gocker run exit status = %d after SIGKILL, want 137 (stderr %q)", code, e.stderr.String())
	}
	if out := g.ok("port", name); out != "" {
		t.Errorf("gocker port of a stopped container = %q, want nothing", out)
	}
	if got := g.field(t, name, "{{json .NetworkSettings.Ports}} {{.NetworkSettings.IPAddress}}"); got != "{}" {
		t.Errorf("inspect NetworkSettings.Ports and IPAddress of a stopped container = %q, want {} and nothing", got)
	}
	g.ok("rm", name)
}

// assertNoHelpers fails when a process of the test user is left
// (slirp4netns, pasta, the port driver's child) or the runtime directory
// keeps port driver state.
func assertNoHelpers(t *testing.T, g *gocker) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(processesOf(g.acct.uid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, pid := range processesOf(g.acct.uid) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Errorf("process %d of %s left: %q", pid, g.acct.name, strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	if entries, _ := os.ReadDir(filepath.Join(g.runtime, "gocker", "ports")); len(entries) > 0 {
		t.Errorf("port driver state left in %s: %d entries", filepath.Join(g.runtime, "gocker", "ports"), len(entries))
	}
}

func TestUserModeResolvConf(t *testing.T) {
	tests := []struct{ mode, nameserver string }{
		{"slirp4netns", "10.0.2.3"},
		{"pasta", "169.254.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			requireUserModeTool(t, tt.mode)
			g := newRootless(t)
			g.busybox(t)
			out := g.ok("run", "--rm", "--network", tt.mode, "busybox", "cat", "/etc/resolv.conf")
			var servers []string
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" {
					servers = append(servers, f[1])
				}
			}
			if len(servers) != 1 || servers[0] != tt.nameserver {
				t.Errorf("nameservers = %q, want only %s (resolv.conf %q)", servers, tt.nameserver, out)
			}
			out = g.ok("run", "--rm", "--network", tt.mode, "--dns", "192.0.2.53", "busybox", "cat", "/etc/resolv.conf")
			if !strings.HasPrefix(out, "nameserver 192.0.2.53\n") || strings.Count(out, "nameserver") != 1 {
				t.Errorf("resolv.conf with --dns = %q", out)
			}
		})
	}
}

// serveDNS answers A queries on 127.0.0.1:53 of the host with 192.0.2.77
// until the test ends, as a host resolver such as systemd-resolved's
// 127.0.0.53 would.
func serveDNS(t *testing.T) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		t.Skipf("needs 127.0.0.1:53 for a test resolver: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply := dnsReply(buf[:n]); reply != nil {
				_, _ = pc.WriteTo(reply, from)
			}
		}
	}()
}

// dnsReply answers a DNS query (RFC 1035 section 4.1): the header with
// QR and RA set, the question, and for type A one answer pointing back at
// the question's name (offset 12).
func dnsReply(query []byte) []byte {
	i := 12
	for i < len(query) && query[i] != 0 {
		i += int(query[i]) + 1
	}
	if i+5 > len(query) {
		return nil
	}
	reply := append([]byte{}, query[:i+5]...)
	reply[2], reply[3] = 0x81, 0x80
	clear(reply[6:12])
	if query[i+1] == 0 && query[i+2] == 1 {
		reply[7] = 1
		reply = append(reply, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77)
	}
	return reply
}

func TestUserModeDNSForwarder(t *testing.T) {
	for _, mode := range []string{"slirp4netns", "pasta"} {
		t.Run(mode, func(t *testing.T) {
			requireUserModeTool(t, mode)
			g := newRootless(t)
			g.busybox(t)
			serveDNS(t)
			// The host resolves through a loopback nameserver, which the
			// container cannot reach: its queries go to the forwarder.
			g.resolvConf = filepath.Join(env.workDir, "resolv-loopback.conf")
			if err := os.WriteFile(g.resolvConf, []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out := g.ok("run", "--rm", "--network", mode, "busybox", "sh", "-c", "cat /etc/resolv.conf; nslookup gocker-test.example")
			if strings.Contains(out, "nameserver 127.") {
				t.Errorf("the container's resolv.conf lists a loopback nameserver: %q", out)
			}
			if !strings.Contains(out, "Address: 192.0.2.77") {
				t.Errorf("nslookup through the forwarder = %q, want the test resolver's 192.0.2.77", out)
			}
		})
	}
}

func TestSlirp4netnsHostLoopback(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootless(t)
	g.busybox(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			fmt.Fprintf(c, "host:%s", line)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	addr := fmt.Sprintf("10.0.2.2:%d", port)
	out := g.ok("run", "--rm", "--network", "slirp4netns:allow_host_loopback=true", "-v", echoMount(t), "busybox", "/netecho", "send", "tcp", addr, "out")
	if out != "host:out\n" {
		t.Errorf("answer of the host's loopback server = %q, want host:out", out)
	}
	// By default the host's loopback is out of reach.
	res := g.try("run", "--rm", "--network", "slirp4netns", "-v", echoMount(t), "busybox", "/netecho", "send", "tcp", addr, "out")
	if res.code == 0 {
		t.Errorf("the host's loopback was reachable without allow_host_loopback: %s", res)
	}
}

func TestPublishErrors(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootless(t)
	g.busybox(t)
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		t.Skipf("needs net.ipv4.ip_unprivileged_port_start: %v", err)
	}
	start, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if start > 80 {
		stderr := g.fails(125, "run", "--rm", "--network", "slirp4netns", "-p", "80:80", "busybox", "true")
		for _, want := range []string{"host port 80", "net.ipv4.ip_unprivileged_port_start", "sysctl"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("privileged port error %q does not mention %q", stderr, want)
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, mode := range []string{"slirp4netns", "pasta"} {
		if _, err := exec.LookPath(mode); err != nil {
			continue
		}
		stderr := g.fails(125, "run", "--rm", "--network", mode, "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox", "true")
		if !strings.Contains(stderr, "already in use") || !strings.Contains(stderr, "choose another host port") {
			t.Errorf("--network %s: port in use error = %q", mode, stderr)
		}
		// The suggested value keeps the address the user asked for.
		if !strings.Contains(stderr, "such as -p 127.0.0.1:") {
			t.Errorf("--network %s: port in use error %q suggests no port on 127.0.0.1", mode, stderr)
		}
	}
	g.fails(125, "run", "--rm", "--network", "none", "-p", "8080:80", "busybox", "true")
	g.fails(125, "run", "--rm", "--network", "slirp4netns", "-p", "8080:80/sctp", "busybox", "true")
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("failed runs left containers: %v", ids)
	}
	assertNoHelpers(t, g)
}

func TestEtcFilesOptions(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	out := g.ok("run", "--rm", "--network", "none", "--name", "named", "-h", "box", "--add-host", "db:192.0.2.9",
		"--add-host", "v6:fd00::9", "--dns", "192.0.2.53", "busybox", "sh", "-c", "hostname; cat /etc/hosts /etc/resolv.conf")
	for _, want := range []string{"box\n", "192.0.2.9\tdb\n", "fd00::9\tv6\n", "127.0.1.1\tbox\n", "nameserver 192.0.2.53\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q does not contain %q", out, want)
		}
	}
	stderr := g.fails(125, "run", "--rm", "--add-host", "nocolon", "busybox", "true")
	if !strings.Contains(stderr, "NAME:IP") {
		t.Errorf("--add-host error = %q", stderr)
	}
	g.fails(125, "run", "--rm", "--dns", "dns.example", "busybox", "true")

	out = g.ok("run", "--name", "resolv", "--network", "none", "--add-host", "eq=192.0.2.10", "--add-host", "bracket:[fd00::a]",
		"--dns-search", "example.test", "--dns-search", "corp.test", "--dns-option", "ndots:2", "--dns-option", "timeout:1",
		"busybox", "cat", "/etc/hosts", "/etc/resolv.conf")
	for _, want := range []string{"192.0.2.10\teq\n", "fd00::a\tbracket\n", "search example.test corp.test\n", "options ndots:2 timeout:1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q does not contain %q", out, want)
		}
	}
	if n := strings.Count(out, "search "); n != 1 {
		t.Errorf("/etc/resolv.conf has %d search lines, want 1: %q", n, out)
	}
	if got := g.field(t, "resolv", "{{json .HostConfig.DnsSearch}} {{json .HostConfig.DnsOptions}} {{json .HostConfig.ExtraHosts}}"); got != `["example.test","corp.test"] ["ndots:2","timeout:1"] ["eq:192.0.2.10","bracket:fd00::a"]` {
		t.Errorf("inspect HostConfig DnsSearch, DnsOptions, ExtraHosts = %s", got)
	}
	g.ok("rm", "resolv")
	out = g.ok("run", "--rm", "--network", "none", "--dns-search", ".", "busybox", "cat", "/etc/resolv.conf")
	if strings.Contains(out, "search ") || strings.Contains(out, "domain ") {
		t.Errorf("--dns-search . left a search line: %q", out)
	}
	if _, err := exec.LookPath("slirp4netns"); err == nil {
		out = g.ok("run", "--rm", "--network", "slirp4netns", "--add-host", "gw:host-gateway", "busybox", "cat", "/etc/hosts")
		if !strings.Contains(out, "10.0.2.2\tgw\n") {
			t.Errorf("--add-host gw:host-gateway with slirp4netns: /etc/hosts = %q, want 10.0.2.2 for gw", out)
		}
	}
	out = g.ok("run", "--rm", "--network", "host", "--add-host", "gw=host-gateway", "busybox", "cat", "/etc/hosts")
	if !strings.Contains(out, "127.0.0.1\tgw\n") {
		t.Errorf("--add-host gw=host-gateway with the host's network: /etc/hosts = %q, want 127.0.0.1 for gw", out)
	}
	// On the host's network, /etc/hosts starts as a copy of the host's.
	if host, err := os.ReadFile("/etc/hosts"); err == nil && len(host) > 0 && !strings.HasPrefix(out, strings.TrimSuffix(string(host), "\n")+"\n") {
		t.Errorf("/etc/hosts with the host's network = %q, want it to start with the host's %q", out, host)
	}
	for _, args := range [][]string{
		{"--network", "none", "--add-host", "gw:host-gateway"},
		{"--add-host", "two words:192.0.2.1"},
		{"--dns-search", "a b"},
		{"--dns-option", ""},
	} {
		stderr := g.fails(125, append(append([]string{"run", "--rm"}, args...), "busybox", "true")...)
		if !strings.Contains(stderr, "invalid --") {
			t.Errorf("gocker run %v: error %q does not name the flag", args, stderr)
		}
	}
	stderr = g.fails(125, "run", "--rm", "--network", "bridge", "busybox", "true")
	if !strings.Contains(stderr, "needs root") {
		t.Errorf("rootless --network bridge error = %q", stderr)
	}
}

// uplink is a second network namespace joined to a test's namespace by a
// veth pair, 198.51.100.1 (test side) to 198.51.100.2 (uplink side), with
// the test namespace's default route through it: the outside world of a
// root gocker under test.
type uplink struct {
	name   string
	server string // address of the echo server in the uplink
}

func newUplink(t *testing.T, netns string) *uplink {
	t.Helper()
	up := &uplink{name: newTestNetns(t), server: "198.51.100.2:8000"}
	a, b := "gkt"+netns[len(netns)-8:], "gku"+netns[len(netns)-8:]
	run(t, "ip", "-n", netns, "link", "add", a, "type", "veth", "peer", "name", b, "netns", up.name)
	run(t, "ip", "-n", netns, "addr", "add", "198.51.100.1/24", "dev", a)
	run(t, "ip", "-n", netns, "link", "set", a, "up")
	run(t, "ip", "-n", netns, "route", "add", "default", "via", "198.51.100.2")
	run(t, "ip", "-n", up.name, "addr", "add", "198.51.100.2/24", "dev", b)
	run(t, "ip", "-n", up.name, "link", "set", b, "up")
	startInNetns(t, up.name, netecho(t), "serve", "tcp", up.server)
	return up
}

// startInNetns starts a command in a network namespace until the test
// ends, and waits for it to print its first line.
func startInNetns(t *testing.T, netns string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + netns, "--"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
}

// inNetns runs a command in a network namespace and returns its output.
func inNetns(t *testing.T, netns string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=/run/netns/" + netns, "--"}, args...)...).CombinedOutput()
	return string(out), err
}

// netState lists a namespace's links and firewall rules.
func netState(t *testing.T, netns string) string {
	t.Helper()
	links, err := inNetns(t, netns, "ip", "-o", "link", "show")
	if err != nil {
		t.Fatalf("ip link: %v: %s", err, links)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(links), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			names = append(names, strings.Split(strings.TrimSuffix(f[1], ":"), "@")[0])
		}
	}
	rules := ""
	if _, err := exec.LookPath("nft"); err == nil {
		rules, err = inNetns(t, netns, "nft", "list", "ruleset")
		if err != nil {
			t.Fatalf("nft list ruleset: %v: %s", err, rules)
		}
	}
	return "links: " + strings.Join(names, " ") + "\nruleset:\n" + rules
}

func TestBridgeNetwork(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	up := newUplink(t, g.netns)
	before := netState(t, g.netns)

	e, pid := startContainer(t, g, "--name", "web", "-v", echoMount(t), "-p", "8080:7", "-p", "8081:7/udp",
		"busybox", "sh", "-c", "ip -o -4 addr show eth0; cat /etc/hosts /etc/resolv.conf; "+echoServers)
	// From the test namespace's loopback and own address, and from the
	// uplink: DNAT for local and forwarded connections alike.
	for _, client := range []struct{ netns, addr string }{
		{g.netns, "127.0.0.1"}, {g.netns, "198.51.100.1"}, {up.name, "198.51.100.1"},
	} {
		for _, proto := range []string{"tcp", "udp"} {
			port := map[string]string{"tcp": "8080", "udp": "8081"}[proto]
			var out string
			var err error
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if out, err = inNetns(t, client.netns, netecho(t), "send", proto, client.addr+":"+port, "hi"); err == nil {
					break
				}
			}
			if strings.TrimSpace(out) != "echo:hi" {
				t.Errorf("%s to %s:%s from %s = %q (%v)", proto, client.addr, port, client.netns, out, err)
			}
		}
	}
	if got := g.ok("port", "web"); got != "7/tcp -> 0.0.0.0:8080\n7/udp -> 0.0.0.0:8081\n" {
		t.Errorf("gocker port = %q", got)
	}
	// Outbound through MASQUERADE, and to the first container by address.
	out := g.ok("run", "--rm", "-v", echoMount(t), "busybox", "/netecho", "send", "tcp", up.server, "out")
	if out != "echo:out\n" {
		t.Errorf("outbound answer = %q, want echo:out", out)
	}
	addr := regexp.MustCompile(`inet (172\.18\.0\.\d+)/24`).FindStringSubmatch(e.stdout.String())
	if addr == nil {
		t.Fatalf("container output %q shows no address in 172.18.0.0/24", e.stdout.String())
	}
	if !strings.Contains(e.stdout.String(), addr[1]+"\t") {
		t.Errorf("/etc/hosts does not map the container's name to %s: %q", addr[1], e.stdout.String())
	}
	assertInspectNetwork(t, g, "web", "bridge", addr[1]+" 172.18.0.1 24")
	if got := g.field(t, "web", "{{json .NetworkSettings.Ports}}"); got != `{"7/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"7/udp":[{"HostIp":"0.0.0.0","HostPort":"8081"}]}` {
		t.Errorf("inspect NetworkSettings.Ports = %s", got)
	}
	if got := g.field(t, "web", "{{json .HostConfig.PortBindings}}"); got != `{"7/tcp":[{"HostIp":"","HostPort":"8080"}],"7/udp":[{"HostIp":"","HostPort":"8081"}]}` {
		t.Errorf("inspect HostConfig.PortBindings = %s", got)
	}
	mac := g.field(t, "web", "{{.NetworkSettings.MacAddress}}")
	if !regexp.MustCompile(`^([0-9a-f]{2}:){5}[0-9a-f]{2}$`).MatchString(mac) {
		t.Errorf("inspect NetworkSettings.MacAddress = %q, want a MAC address", mac)
	}
	if got := g.field(t, "web", "{{.NetworkSettings.Networks.bridge.MacAddress}}"); got != mac {
		t.Errorf("inspect NetworkSettings.Networks.bridge.MacAddress = %q, want %q", got, mac)
	}
	out = g.ok("run", "--rm", "-v", echoMount(t), "busybox", "/netecho", "send", "udp", addr[1]+":7", "peer")
	if out != "echo:peer\n" {
		t.Errorf("answer from the other container = %q, want echo:peer", out)
	}
	// A container reaches the other through a published port of the
	// host (hairpin NAT).
	out = g.ok("run", "--rm", "-v", echoMount(t), "busybox", "/netecho", "send", "tcp", "198.51.100.1:8080", "hairpin")
	if out != "echo:hairpin\n" {
		t.Errorf("answer through the host's published port = %q, want echo:hairpin", out)
	}
	stderr := g.fails(125, "run", "--rm", "-p", "8080:80", "busybox", "true")
	if !strings.Contains(stderr, "already in use") {
		t.Errorf("second container on port 8080: %q", stderr)
	}

	stopContainer(t, g, e, pid, "web")
	if after := netState(t, g.netns); after != before {
		t.Errorf("network state after removal differs:\nbefore %s\nafter %s", before, after)
	}
	assertNoLeases(t, g)
}

// assertNoLeases fails when a bridge lease file lists a container.
func assertNoLeases(t *testing.T, g *gocker) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(g.runtime, "gocker", "network", "*.json"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		t.Errorf("lease file %s left: %s", f, data)
	}
}

func TestBridgeConcurrentAddresses(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	syncDir := t.TempDir()
	const n = 50
	// Each container reports its address, then waits until all are up,
	// so that every address is leased at the same time.
	script := `ip -o -4 addr show eth0 > /sync/$HOSTNAME; while [ ! -e /sync/go ]; do sleep 0.1; done`
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = g.try("run", "--rm", "-v", syncDir+":/sync", "busybox", "sh", "-c", script)
		}()
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		entries, _ := os.ReadDir(syncDir)
		if len(entries) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	addrs := map[string]string{}
	entries, _ := os.ReadDir(syncDir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(syncDir, e.Name()))
		m := regexp.MustCompile(`inet (\S+)/24`).FindStringSubmatch(string(data))
		switch {
		case m == nil:
			t.Errorf("container %s reported no address: %q", e.Name(), data)
		case m[1] == "172.18.0.1":
			t.Errorf("container %s got the gateway's address", e.Name())
		case addrs[m[1]] != "":
			t.Errorf("containers %s and %s share %s", addrs[m[1]], e.Name(), m[1])
		default:
			addrs[m[1]] = e.Name()
		}
	}
	if err := os.WriteFile(filepath.Join(syncDir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, res := range results {
		if res.code != 0 {
			t.Errorf("container %d: %s", i, res)
		}
	}
	if len(addrs) != n {
		t.Errorf("%d distinct addresses, want %d", len(addrs), n)
	}
	if state := netState(t, g.netns); strings.Contains(state, "gk") || strings.Contains(state, "gocker") {
		t.Errorf("network state after all containers exited: %s", state)
	}
	assertNoLeases(t, g)
}

func TestBridgeCleanupAfterKilledMonitor(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	before := netState(t, g.netns)
	e, pid := startContainer(t, g, "-p", "8080:80", "busybox", "sleep", "600")
	// Wait until the published port's rule exists, then kill gocker run
	// without letting it clean up; the container dies with it.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(netState(t, g.netns), "dport 8080"); {
		if time.Now().After(deadline) {
			t.Fatalf("no DNAT rule for port 8080 appeared: %s", netState(t, g.netns))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := e.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-e.done
	waitGone(t, pid)
	// The next gocker command removes what the dead container left.
	g.ok("ps", "-a")
	if after := netState(t, g.netns); after != before {
		t.Errorf("network state after the next command differs:\nbefore %s\nafter %s", before, after)
	}
	assertNoLeases(t, g)
}

func TestUserModeCleanupAfterKilledMonitor(t *testing.T) {
	for _, mode := range []string{"slirp4netns", "pasta"} {
		t.Run(mode, func(t *testing.T) {
			requireUserModeTool(t, mode)
			g := newRootless(t)
			g.busybox(t)
			port := freeHostPort(t)
			e, pid := startContainer(t, g, "--network", mode, "-v", echoMount(t), "-p", fmt.Sprintf("127.0.0.1:%d:7", port),
				"busybox", "sh", "-c", echoServers)
			if got := exchange(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "up"); got != "echo:up" {
				t.Fatalf("TCP answer = %q, want echo:up", got)
			}
			// SIGKILL gives gocker run no chance to clean up:
			// slirp4netns or pasta, the port driver's child and the
			// container die with it.
			if err := e.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-e.done
			waitGone(t, pid)
			if entries, _ := os.ReadDir(filepath.Join(g.runtime, "gocker", "ports")); len(entries) != 1 {
				t.Errorf("the killed monitor left %d port driver directories, want the 1 that the next command removes", len(entries))
			}
			g.ok("ps", "-a")
			assertNoHelpers(t, g)
			if _, err := exchangeOnce("tcp", fmt.Sprintf("127.0.0.1:%d", port), "x"); err == nil {
				t.Errorf("host port %d still answers after the monitor was killed", port)
			}
		})
	}
}

// TestUserModeRemoveForce removes a detached container with published
// ports while it runs, and checks that no helper or state is left.
func TestUserModeRemoveForce(t *testing.T) {
	for _, mode := range []string{"slirp4netns", "pasta"} {
		t.Run(mode, func(t *testing.T) {
			requireUserModeTool(t, mode)
			g := newRootless(t)
			g.busybox(t)
			tcpPort, udpPort := freeHostPort(t), freeHostPort(t)
			g.ok("run", "-d", "--name", "web", "--network", mode, "-v", echoMount(t),
				"-p", fmt.Sprintf("127.0.0.1:%d:7", tcpPort), "-p", fmt.Sprintf("127.0.0.1:%d:7/udp", udpPort),
				"busybox", "sh", "-c", echoServers)
			if got := exchange(t, "tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), "up"); got != "echo:up" {
				t.Fatalf("TCP answer = %q, want echo:up", got)
			}
			if got := exchange(t, "udp", fmt.Sprintf("127.0.0.1:%d", udpPort), "up"); got != "echo:up" {
				t.Fatalf("UDP answer = %q, want echo:up", got)
			}
			if got := g.ok("rm", "-f", "web"); got != "web\n" {
				t.Errorf("gocker rm -f = %q, want web", got)
			}
			assertNoHelpers(t, g)
			if _, err := exchangeOnce("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), "x"); err == nil {
				t.Errorf("host port %d still answers after rm -f", tcpPort)
			}
		})
	}
}

func TestUserModeNeedsTun(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootless(t)
	if tunNode(t) == "" {
		t.Skip("needs a /dev/net/tun that the test user cannot open; this host lets every user open it")
	}
	g.busybox(t)
	// The user's own /dev/net/tun, without the harness's usable node.
	cmd := exec.Command(env.binary, "--root", g.root, "run", "--rm", "busybox", "true")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + g.acct.home, "XDG_RUNTIME_DIR=" + g.runtime}
	cmd.SysProcAttr = g.acct.sysProcAttr()
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 125 {
		t.Fatalf("gocker run without a usable tun: %v, want exit 125: %s", err, out)
	}
	for _, want := range []string{"/dev/net/tun", "--network none"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error %q does not mention %q", out, want)
		}
	}
	// The fix uses sudo only where the user's PATH has it.
	hasSudo := false
	for _, dir := range filepath.SplitList(cmd.Env[0][len("PATH="):]) {
		hasSudo = hasSudo || exists(filepath.Join(dir, "sudo"))
	}
	if !hasSudo && strings.Contains(string(out), "sudo") {
		t.Errorf("error %q suggests sudo, which is not installed", out)
	}
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("the failed run left containers: %v", ids)
	}
}

func TestRootSlirp4netnsKeepsHostMounts(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootful(t)
	g.busybox(t)
	e, pid := startContainer(t, g, "--name", "web", "--network", "slirp4netns", "-v", echoMount(t), "-p", "127.0.0.1:8080:7",
		"busybox", "sh", "-c", echoServers)
	var out string
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, err = inNetns(t, g.netns, netecho(t), "send", "tcp", "127.0.0.1:8080", "root"); err == nil {
			break
		}
	}
	if out != "echo:root\n" {
		t.Errorf("answer through root's port driver = %q (%v), want echo:root", out, err)
	}
	// slirp4netns's sandbox must not unmount the host's shared mounts,
	// such as the namespace this test runs gocker in.
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mounts), " /run/netns/"+g.netns+" ") {
		t.Errorf("/run/netns/%s is no longer mounted after a root slirp4netns container", g.netns)
	}
	stopContainer(t, g, e, pid, "web")
}
