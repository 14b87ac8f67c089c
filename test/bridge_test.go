//go:build integration

package test

import (
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
