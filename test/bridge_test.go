//go:build integration

package test

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// sendFromNetns sends msg to addr with netecho from a network namespace,
// retrying for 20 seconds while the server starts, and returns the last
// output and error.
func sendFromNetns(t *testing.T, netns, proto, addr, msg string) (string, error) {
	t.Helper()
	var out string
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, err = inNetns(t, netns, netecho(t), "send", proto, addr, msg); err == nil {
			break
		}
	}
	return strings.TrimSpace(out), err
}

// ipForward returns net.ipv4.ip_forward of a network namespace.
func ipForward(t *testing.T, netns string) string {
	t.Helper()
	out, err := inNetns(t, netns, "cat", "/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatalf("read ip_forward in %s: %v: %s", netns, err, out)
	}
	return strings.TrimSpace(out)
}

func setIPForward(t *testing.T, netns, value string) {
	t.Helper()
	if out, err := inNetns(t, netns, "sh", "-c", "echo "+value+" > /proc/sys/net/ipv4/ip_forward"); err != nil {
		t.Fatalf("set ip_forward in %s: %v: %s", netns, err, out)
	}
}

// containerAddress returns the eth0 address that a container printed
// with "ip -o -4 addr show eth0".
func containerAddress(t *testing.T, e *execution) string {
	t.Helper()
	var m []string
	for deadline := time.Now().Add(20 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		m = regexp.MustCompile(`inet (172\.18\.0\.\d+)/24`).FindStringSubmatch(e.stdout.String())
	}
	if m == nil {
		t.Fatalf("container output %q shows no address in 172.18.0.0/24", e.stdout.String())
	}
	return m[1]
}

func TestBridgeOwnedByOtherRuntimeDir(t *testing.T) {
	first := newRootful(t)
	first.busybox(t)
	// second has a store and runtime directory of its own in the same
	// network namespace, as root with another GOCKER_RUNTIME_DIR.
	second := newGocker(t, nil)
	second.netns = first.netns
	second.busybox(t)
	before := netState(t, first.netns)

	e, pid := startContainer(t, first, "--name", "s1", "-v", echoMount(t), "-p", "8095:7", "busybox", "sh", "-c", echoServers)
	if out, err := sendFromNetns(t, first.netns, "tcp", "127.0.0.1:8095", "first"); out != "echo:first" {
		t.Fatalf("published port before the second run = %q (%v)", out, err)
	}
	during := netState(t, first.netns)

	stderr := second.fails(125, "run", "--rm", "busybox", "true")
	for _, want := range []string{"bridge gocker0", first.runtime + "/gocker", "GOCKER_RUNTIME_DIR=", "--bridge-subnet"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("second runtime directory's error %q does not contain %q", stderr, want)
		}
	}
	if after := netState(t, first.netns); after != during {
		t.Errorf("the failed run changed the network state:\nbefore %s\nafter %s", during, after)
	}
	if out, err := sendFromNetns(t, first.netns, "tcp", "127.0.0.1:8095", "again"); out != "echo:again" {
		t.Errorf("published port after the second run = %q (%v)", out, err)
	}
	// The fix that the error names: a bridge and subnet of its own.
	out := second.ok("--bridge", "gockeralt", "--bridge-subnet", "172.19.0.1/24", "run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
	if !strings.Contains(out, "inet 172.19.0.2/24") {
		t.Errorf("container on the other bridge: %q, want 172.19.0.2/24", out)
	}

	stopContainer(t, first, e, pid, "s1")
	if after := netState(t, first.netns); after != before {
		t.Errorf("network state after removal differs:\nbefore %s\nafter %s", before, after)
	}
	assertNoLeases(t, first)
	assertNoLeases(t, second)
}

func TestBridgeRestoresIPForward(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	// A new namespace copies IPv4 settings from the host's, so the test
	// sets the value it starts from.
	setIPForward(t, g.netns, "0")

	e, pid := startContainer(t, g, "--name", "fwd", "busybox", "sh", "-c", "ip -o -4 addr show eth0; sleep 600")
	containerAddress(t, e)
	if got := ipForward(t, g.netns); got != "1" {
		t.Errorf("ip_forward while a bridge container runs = %s, want 1", got)
	}
	stopContainer(t, g, e, pid, "fwd")
	if got := ipForward(t, g.netns); got != "0" {
		t.Errorf("ip_forward after the last container = %s, want 0 again", got)
	}

	// A value of 1 that gocker found stays.
	setIPForward(t, g.netns, "1")
	g.ok("run", "--rm", "busybox", "true")
	if got := ipForward(t, g.netns); got != "1" {
		t.Errorf("ip_forward that was 1 before the container = %s, want 1", got)
	}
	assertNoLeases(t, g)
}

func TestBridgeDropsUnpublishedPorts(t *testing.T) {
	g := newRootful(t)
	g.busybox(t)
	up := newUplink(t, g.netns)
	// The uplink routes the bridge's subnet to the test namespace, as a
	// neighbour on the same network could.
	run(t, "ip", "-n", up.name, "route", "add", "172.18.0.0/24", "via", "198.51.100.1")

	e, pid := startContainer(t, g, "--name", "web", "-v", echoMount(t), "-p", "8080:7",
		"busybox", "sh", "-c", "ip -o -4 addr show eth0; "+echoServers)
	addr := containerAddress(t, e)
	if out, err := sendFromNetns(t, up.name, "tcp", "198.51.100.1:8080", "published"); out != "echo:published" {
		t.Errorf("published port from the uplink = %q (%v)", out, err)
	}
	for _, proto := range []string{"tcp", "udp"} {
		out, err := inNetns(t, up.name, netecho(t), "send", proto, addr+":7", "direct")
		if err == nil || strings.Contains(out, "echo:direct") {
			t.Errorf("unpublished %s port %s:7 from the uplink answered %q, want no answer", proto, addr, out)
		}
	}
	// Containers on the bridge still reach each other, and the outside.
	out := g.ok("run", "--rm", "-v", echoMount(t), "busybox", "/netecho", "send", "tcp", addr+":7", "peer")
	if out != "echo:peer\n" {
		t.Errorf("answer from the other container = %q, want echo:peer", out)
	}
	out = g.ok("run", "--rm", "-v", echoMount(t), "busybox", "/netecho", "send", "tcp", up.server, "out")
	if out != "echo:out\n" {
		t.Errorf("outbound answer = %q, want echo:out", out)
	}
	stopContainer(t, g, e, pid, "web")
	assertNoLeases(t, g)
}
