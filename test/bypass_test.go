//go:build integration

package test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestBypassPublishedPorts(t *testing.T) {
	for _, mode := range []string{"slirp4netns", "pasta"} {
		t.Run(mode, func(t *testing.T) {
			requireUserModeTool(t, mode)
			g := newRootless(t)
			g.busybox(t)
			tcpPort, udpPort, loopPort, sumPort, peerPort, v4Port, threadPort := freeHostPort(t), freeHostPort(t), freeHostPort(t), freeHostPort(t), freeHostPort(t), freeHostPort(t), freeHostPort(t)
			// allow_host_loopback=true: current kernels reject the socket
			// filter that keeps the loopback closed for unprivileged users
			// (TestBypassErrors).
			network := mode + ":allow_host_loopback=true,port_handler=bypass"
			// The servers run as a user other than the container's root.
			// The monitor reads their memory as the owner of the
			// container's user namespace.
			e, pid := startContainer(t, g, "--name", "web", "--network", network, "-v", echoMount(t), "-u", "1000:1000",
				"-p", fmt.Sprintf("%d:7", tcpPort), "-p", fmt.Sprintf("127.0.0.1:%d:7/udp", udpPort),
				"-p", fmt.Sprintf("%d:9", loopPort), "-p", fmt.Sprintf("%d:8", sumPort), "-p", fmt.Sprintf("127.0.0.1:%d:6", peerPort), "-p", fmt.Sprintf("%d:5", v4Port), "-p", fmt.Sprintf("%d:4", threadPort),
				"busybox", "sh", "-c", bypassServers+echoServers)
			if got := exchange(t, "tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort), "hello"); got != "echo:hello" {
				t.Errorf("TCP answer = %q, want echo:hello", got)
			}
			assertStreamIntact(t, fmt.Sprintf("127.0.0.1:%d", sumPort), 24<<20)
			// The IPv4 server kept the port: the IPv6 server that bound
			// it afterwards failed, and would have sent its client's
			// address.
			if got := exchange(t, "tcp", fmt.Sprintf("127.0.0.1:%d", v4Port), "v4"); got != "echo:v4" {
				t.Errorf("answer on the IPv4 server's port = %q, want echo:v4", got)
			}
			assertServerSeesClient(t, fmt.Sprintf("127.0.0.1:%d", peerPort))
			if got := exchange(t, "tcp", fmt.Sprintf("127.0.0.1:%d", threadPort), "thread"); got != "echo:thread" {
				t.Errorf("answer of the server that bound from another thread = %q, want echo:thread", got)
			}
			openConn := holdConnection(t, fmt.Sprintf("127.0.0.1:%d", tcpPort))
			// A server on the container's loopback keeps its socket in the
			// container, so the host port refuses clients.
			if got, err := exchangeOnce("tcp", fmt.Sprintf("127.0.0.1:%d", loopPort), "private"); err == nil {
				t.Errorf("a server on the container's loopback answered %q through a published port", got)
			}
			// UDP still goes through the port driver.
			if got := exchange(t, "udp", fmt.Sprintf("127.0.0.1:%d", udpPort), "ping"); got != "echo:ping" {
				t.Errorf("UDP answer = %q, want echo:ping", got)
			}
			if got := g.field(t, "web", "{{.HostConfig.NetworkMode}}"); got != network {
				t.Errorf("inspect HostConfig.NetworkMode = %q, want %q", got, network)
			}
			ports := g.ok("port", "web")
			for _, want := range []string{fmt.Sprintf("7/tcp -> 0.0.0.0:%d\n", tcpPort), fmt.Sprintf("7/udp -> 127.0.0.1:%d\n", udpPort), fmt.Sprintf("6/tcp -> 127.0.0.1:%d\n", peerPort)} {
				if !strings.Contains(ports, want) {
					t.Errorf("gocker port = %q, want the line %q", ports, want)
				}
			}
			stopPublishing(t, g, e, pid, tcpPort, openConn)
		})
	}
}

// bypassServers starts the servers of TestBypassPublishedPorts. Port 9
// listens on the container's loopback. The echo server on port 4 binds
// from a thread other than its first. Port 5 gets an IPv4 echo server
// and, once that one has a host socket, a dual-stack IPv6 peer server,
// whose bind fails as it would in one network namespace. The sum server
// on port 8, the peer server on port 6 and the echo servers on port 7
// listen on dual-stack IPv6 sockets.
const bypassServers = "/netecho serve tcp 127.0.0.1:9 & /netecho serve tcp-thread :4 & /netecho serve tcp4 0.0.0.0:5 >/tmp/v4.ready & " +
	"until [ -s /tmp/v4.ready ]; do sleep 0.05; done; /netecho serve peer [::]:5 & /netecho serve sum :8 & /netecho serve peer :6 & "

// TestBypassRestartWithInit checks a detached container with --init whose
// first run ends: the restart attaches a new network and bind listener,
// and the server of the second run gets the host socket again.
func TestBypassRestartWithInit(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootless(t)
	g.busybox(t)
	port := freeHostPort(t)
	g.ok("run", "-d", "--name", "again", "--init", "--restart", "on-failure:1",
		"--network", "slirp4netns:allow_host_loopback=true,port_handler=bypass", "-v", echoMount(t), "-p", fmt.Sprintf("127.0.0.1:%d:7", port),
		"busybox", "sh", "-c", "[ -e /once ] && exec /netecho serve tcp :7; touch /once; exit 3")
	waitUntil(t, 30*time.Second, "the container's restart", func() bool {
		return g.field(t, "again", "{{.State.Status}} {{.RestartCount}}") == "running 1"
	})
	if got := exchange(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "again"); got != "echo:again" {
		t.Errorf("answer after the restart = %q, want echo:again", got)
	}
	// Only TCP is published, so no port driver runs.
	for _, pid := range processesOf(g.acct.uid) {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "gocker-port" {
			t.Errorf("a port driver child (pid %d) runs for a container that publishes TCP ports with port_handler=bypass", pid)
		}
	}
	g.ok("rm", "-f", "again")
	assertNoHelpers(t, g)
}

// TestBypassServerEnds checks the host port while the container's servers
// come and go: a second server's bind of the port fails, the port
// refuses clients once the server ends, and a new server gets it again.
func TestBypassServerEnds(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootless(t)
	g.busybox(t)
	port := freeHostPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	e, pid := startContainer(t, g, "--name", "web", "--network", "slirp4netns:allow_host_loopback=true,port_handler=bypass", "-v", echoMount(t),
		"-p", fmt.Sprintf("127.0.0.1:%d:7", port), "busybox", "sh", "-c",
		"/netecho serve tcp :7 >/tmp/first & until [ -s /tmp/first ]; do sleep 0.05; done; "+
			"/netecho serve tcp :7; echo second=$?; wait; sleep 3; exec /netecho serve tcp :7")
	if got := exchange(t, "tcp", addr, "first"); got != "echo:first" {
		t.Errorf("answer of the first server = %q, want echo:first", got)
	}
	waitUntil(t, 20*time.Second, "the second server's exit", func() bool { return strings.Contains(e.stdout.String(), "second=1") })
	if stderr := e.stderr.String(); !strings.Contains(stderr, "address already in use") {
		t.Errorf("the second server's bind did not fail with EADDRINUSE: stderr %q", stderr)
	}

	g.ok("exec", "web", "sh", "-c", "kill $(pidof netecho)")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		t.Errorf("a client connected to %s while no server ran", addr)
	} else if !strings.Contains(err.Error(), "refused") {
		t.Errorf("connect to %s while no server ran: %v, want it refused", addr, err)
	}
	if got := exchange(t, "tcp", addr, "third"); got != "echo:third" {
		t.Errorf("answer of the third server = %q, want echo:third", got)
	}
	stopContainer(t, g, e, pid, "web")
	assertNoHelpers(t, g)
}

// assertServerSeesClient connects to a "netecho serve peer" server at addr
// and fails unless the server saw the connection come from the client's
// own address and port: the server accepted it from the host's socket,
// with no forwarder dialing in between.
func assertServerSeesClient(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read the peer address from %s: %v", addr, err)
	}
	if got, want := strings.TrimSpace(line), c.LocalAddr().String(); got != want {
		t.Errorf("the server behind %s saw its client as %s, want the client's own address %s", addr, got, want)
	}
}

// TestBypassSocketCannotConnectOut checks that a socket of the host's
// network namespace in a container cannot become a client there. The
// server accepts a client of its published port, disconnects that socket
// and connects it to a server on the host's 127.0.0.1, which the
// container's own network does not reach. Root runs the test in a network
// namespace of its own: kernels such as 6.18 and Debian 12's 6.1.0-50
// reject socket filters on TCP sockets for users without CAP_NET_ADMIN.
func TestBypassSocketCannotConnectOut(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootful(t)
	g.busybox(t)
	target := "127.0.0.1:7100"
	startInNetns(t, g.netns, netecho(t), "serve", "tcp", target)
	// Connecting there from the namespace works: the refusal below is the
	// filter's, not a missing server's.
	if out, err := inNetns(t, g.netns, netecho(t), "send", "tcp", target, "direct"); err != nil || out != "echo:direct\n" {
		t.Fatalf("the target server did not answer in the test's namespace: %q, %v", out, err)
	}
	assertEscapeTimesOut(t, g, "slirp4netns:port_handler=bypass", target, func(port int) *exec.Cmd {
		return exec.Command("nsenter", "--net=/run/netns/"+g.netns, "--", netecho(t), "send", "tcp", fmt.Sprintf("127.0.0.1:%d", port), "hello")
	})
}

// assertEscapeTimesOut runs "netecho escape" in a container of network,
// connects to its published port with the command that client returns,
// and fails unless the server's connection to target timed out.
func assertEscapeTimesOut(t *testing.T, g *gocker, network, target string, client func(port int) *exec.Cmd) {
	t.Helper()
	port := freeHostPort(t)
	e, _ := startContainer(t, g, "--name", "esc", "--pull", "never", "--network", network, "-v", echoMount(t),
		"-p", fmt.Sprintf("127.0.0.1:%d:5", port), "busybox", "/netecho", "escape", ":5", target)
	// The host port refuses clients until the server listens.
	waitUntil(t, 20*time.Second, "the escape server", func() bool { return strings.Contains(e.stdout.String(), "ready") })
	cmd := client(port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if code := e.exitCode(t); code != 0 {
		t.Fatalf("netecho escape exit status = %d, stderr %q", code, e.stderr.String())
	}
	// With the SYN-ACK dropped, the connection times out rather than
	// being refused by the server.
	if out := e.stdout.String(); !strings.Contains(out, "refused: timed out") {
		t.Errorf("netecho escape printed %q, want its connection to time out", out)
	}
	g.ok("rm", "esc")
}

func TestBypassErrors(t *testing.T) {
	requireUserModeTool(t, "slirp4netns")
	g := newRootless(t)
	g.busybox(t)

	stderr := g.fails(125, "run", "--rm", "--network", "slirp4netns:port_handler=splice", "busybox", "true")
	if !strings.Contains(stderr, `"port_handler=splice"`) || !strings.Contains(stderr, "port_handler=rootlesskit|bypass") {
		t.Errorf("unknown port handler error = %q", stderr)
	}
	// Without allow_host_loopback, a kernel that refuses the socket filter
	// to users refuses the port as well.
	res := g.try("run", "--rm", "--network", "slirp4netns:port_handler=bypass", "-p", fmt.Sprintf("127.0.0.1:%d:80", freeHostPort(t)), "busybox", "true")
	if res.code != 0 {
		if res.code != 125 || !strings.Contains(res.stderr, "SO_ATTACH_FILTER") || !strings.Contains(res.stderr, "allow_host_loopback=true") {
			t.Errorf("bypass without the socket filter: %s", res)
		}
	}

	stderr = g.fails(125, "run", "--rm", "--network", "slirp4netns:port_handler=bypass", "-p", "18080:80", "-p", "18081:80", "busybox", "true")
	if !strings.Contains(stderr, "published once") || !strings.Contains(stderr, "port_handler=rootlesskit") {
		t.Errorf("twice published port error = %q", stderr)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	stderr = g.fails(125, "run", "--rm", "--network", "slirp4netns:allow_host_loopback=true,port_handler=bypass", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox", "true")
	if !strings.Contains(stderr, "already in use") {
		t.Errorf("port in use error = %q", stderr)
	}
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("failed runs left containers: %v", ids)
	}
	assertNoHelpers(t, g)
}
