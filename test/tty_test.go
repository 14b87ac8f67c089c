//go:build integration

package test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestRunTerminal(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// stty size runs first, so the size must be set before the process
	// starts.
	script := `stty size; tty; trap 'stty size' WINCH; echo ready; while :; do if read -t 1 line; then echo "got $line"; exit 7; fi; done`
	cmd := g.command(ctx, "run", "--rm", "-it", "busybox", "sh", "-c", script)
	master, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	var out lockedBuffer
	var copied sync.WaitGroup
	copied.Add(1)
	go func() {
		defer copied.Done()
		_, _ = io.Copy(&out, master)
	}()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("terminal output %q does not contain %q", out.String(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("ready")
	if !strings.Contains(out.String(), "/dev/pts/0") {
		t.Errorf("tty inside = %q, want the container's own /dev/pts/0", out.String())
	}
	if !strings.Contains(out.String(), "40 100") {
		t.Errorf("initial size: output %q, want 40 100", out.String())
	}
	if err := pty.Setsize(master, &pty.Winsize{Rows: 50, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	waitFor("50 120")
	if _, err := master.Write([]byte("hello\r")); err != nil {
		t.Fatal(err)
	}
	waitFor("got hello")
	err = cmd.Wait()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 7 {
		t.Errorf("exit status = %v (%v), want 7", cmd.ProcessState, err)
	}
	master.Close()
	copied.Wait()
	if bytes.Contains([]byte(out.String()), []byte("gocker:")) {
		t.Errorf("gocker reported an error: %q", out.String())
	}
}

func TestRunTerminalNeedsTTY(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	stderr := g.fails(125, "run", "--rm", "-it", "busybox", "true")
	if !strings.Contains(stderr, "not a TTY") {
		t.Errorf("stderr = %q", stderr)
	}
	// -t alone needs no terminal on stdin: the container still gets a pty.
	if out := g.ok("run", "--rm", "-t", "busybox", "tty"); !strings.Contains(out, "/dev/pts/0") {
		t.Errorf("tty with -t = %q", out)
	}
}
