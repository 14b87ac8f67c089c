//go:build integration

package test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

// run runs a command as root and fails the test unless it succeeds.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newTestNetns creates a network namespace with loopback up, removed when
// the test ends, and returns its name for "ip netns".
func newTestNetns(t *testing.T) string {
	t.Helper()
	requireBinary(t, "ip")
	requireBinary(t, "nsenter")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "gocker-e2e-" + hex.EncodeToString(b)
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

var tunOnce struct {
	sync.Once
	path string
	err  error
}

// tunNode returns a tun device node of mode 0666 in a directory only root
// can enter, for rootless commands to bind over /dev/net/tun, or "" when
// the host's /dev/net/tun is usable by every user already (as on stock
// Debian).
func tunNode(t *testing.T) string {
	t.Helper()
	fi, err := os.Stat("/dev/net/tun")
	if err != nil || fi.Mode().Perm()&0o006 == 0o006 {
		return ""
	}
	tunOnce.Do(func() {
		dir := filepath.Join(env.workDir, "tun")
		if tunOnce.err = os.Mkdir(dir, 0o700); tunOnce.err != nil {
			return
		}
		path := filepath.Join(dir, "tun")
		if tunOnce.err = unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(10, 200))); tunOnce.err != nil {
			return
		}
		tunOnce.err = os.Chmod(path, 0o666)
		tunOnce.path = path
	})
	if tunOnce.err != nil {
		t.Fatalf("create a tun node for the test user: %v", tunOnce.err)
	}
	return tunOnce.path
}
