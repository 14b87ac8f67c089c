//go:build integration

package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLogsStreamsTailSinceTimestamps(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	script := `echo out1; echo err1 >&2; echo out2; sleep 1.5; echo out3; echo err2 >&2`
	g.runDetached(t, "--name", "talk", "busybox", "sh", "-c", script)
	if got := g.ok("wait", "talk"); got != "0\n" {
		dir := filepath.Join(g.root, "containers", g.field(t, "talk", "{{.Id}}"))
		monitorLog, _ := os.ReadFile(filepath.Join(dir, "monitor.log"))
		t.Fatalf("wait printed %q, want 0; monitor.log:\n%s", got, monitorLog)
	}
	res := g.try("logs", "talk")
	if res.code != 0 || res.stdout != "out1\nout2\nout3\n" || res.stderr != "err1\nerr2\n" {
		t.Errorf("logs: %s", res)
	}

	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantErrOut string
	}{
		{"tail", []string{"--tail", "2"}, "out3\n", "err2\n"},
		{"tail zero", []string{"--tail", "0"}, "", ""},
		{"since duration", []string{"--since", "1s"}, "out3\n", "err2\n"},
		{"since far back", []string{"--since", "1h"}, "out1\nout2\nout3\n", "err1\nerr2\n"},
		{"until", []string{"--until", "1s"}, "out1\nout2\n", "err1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := g.try(append(append([]string{"logs"}, tt.args...), "talk")...)
			if res.code != 0 || res.stdout != tt.wantOut || res.stderr != tt.wantErrOut {
				t.Errorf("want stdout %q and stderr %q, got %s", tt.wantOut, tt.wantErrOut, res)
			}
		})
	}

	out := g.ok("logs", "-t", "--tail", "2", "talk")
	stamp := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) out3\n$`).FindStringSubmatch(out)
	if stamp == nil {
		t.Fatalf("logs -t = %q, want an RFC 3339 timestamp before the line", out)
	}
	at, err := time.Parse(time.RFC3339Nano, stamp[1])
	if err != nil || time.Since(at) > time.Minute {
		t.Errorf("timestamp %q is not a recent time: %v", stamp[1], err)
	}
	// --since with that time keeps that line and what follows. The two
	// streams are read apart, so err2 may be stamped before out3.
	res = g.try("logs", "--since", stamp[1], "talk")
	if res.stdout != "out3\n" || strings.Contains(res.stderr, "err1") {
		t.Errorf("logs --since %s: %s", stamp[1], res)
	}

	for _, bad := range [][]string{{"--tail", "x"}, {"--since", "yesterday"}, {"--until", "-5m"}} {
		stderr := g.fails(125, append(append([]string{"logs"}, bad...), "talk")...)
		if !strings.Contains(stderr, bad[0]) {
			t.Errorf("logs %v: stderr %q does not name the option", bad, stderr)
		}
	}
	// Docker exits 1 for a missing container.
	g.fails(1, "logs", "nobody")
}

func TestLogsFollow(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.runDetached(t, "--name", "ticker", "busybox", "sh", "-c", `for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done; echo done >&2`)
	follow := startGocker(t, g, "logs", "-f", "ticker")
	if code := follow.exitCode(t); code != 0 {
		t.Fatalf("logs -f exited %d: %s", code, follow.stderr.String())
	}
	if got := follow.stdout.String(); got != "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n" {
		t.Errorf("logs -f printed %q", got)
	}
	if got := follow.stderr.String(); got != "done\n" {
		t.Errorf("logs -f printed %q on stderr", got)
	}
	// Following a stopped container prints the log and returns.
	res := g.try("logs", "-f", "--tail", "2", "ticker")
	if res.code != 0 || res.stdout != "tick 5\n" || res.stderr != "done\n" {
		t.Errorf("logs -f of a stopped container: %s", res)
	}
}

func TestLogsRotation(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	// Each record is about 90 bytes, so 300 lines need about 27 kB, more
	// than three 4 KiB files keep.
	g.runDetached(t, "--name", "chatty", "--log-opt", "max-size=4k", "--log-opt", "max-file=3", "busybox",
		"sh", "-c", `i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done`)
	g.ok("wait", "chatty")

	dir := filepath.Join(g.root, "containers", g.field(t, "chatty", "{{.Id}}"))
	var files []string
	for _, name := range []string{"json.log", "json.log.1", "json.log.2", "json.log.3"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		files = append(files, name)
		if st.Size() > 4096 {
			t.Errorf("%s is %d bytes, more than max-size=4k", name, st.Size())
		}
	}
	if strings.Join(files, " ") != "json.log json.log.1 json.log.2" {
		t.Errorf("log files = %v, want json.log and two rotated files", files)
	}
	data, err := os.ReadFile(filepath.Join(dir, "json.log"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Log, Stream string
		Time        time.Time
	}
	if err := json.Unmarshal([]byte(strings.SplitN(string(data), "\n", 2)[0]), &rec); err != nil || rec.Stream != "stdout" || rec.Time.IsZero() {
		t.Errorf("first record of json.log = %+v (%v), want a json-file record", rec, err)
	}

	lines := strings.Split(strings.TrimSpace(g.ok("logs", "chatty")), "\n")
	if len(lines) < 100 || lines[len(lines)-1] != "line 299" {
		t.Fatalf("logs after rotation: %d lines ending %q", len(lines), lines[len(lines)-1])
	}
	// The rotated-away records are the oldest: what is left is the end
	// of the output, with no line missing.
	first, err := strconv.Atoi(strings.TrimPrefix(lines[0], "line "))
	if err != nil {
		t.Fatalf("first line %q", lines[0])
	}
	for i, l := range lines {
		if want := fmt.Sprintf("line %d", first+i); l != want {
			t.Fatalf("line %d of logs = %q, want %q", i, l, want)
		}
	}
	if got := g.ok("logs", "--tail", "3", "chatty"); got != "line 297\nline 298\nline 299\n" {
		t.Errorf("logs --tail 3 = %q", got)
	}
}

func TestLogsTerminal(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.runDetached(t, "-t", "--name", "term", "busybox", "sh", "-c", "echo to-out; echo to-err >&2; tty")
	g.ok("wait", "term")
	res := g.try("logs", "term")
	// A terminal has one stream, and its line discipline turns \n into
	// \r\n.
	if res.code != 0 || res.stderr != "" || res.stdout != "to-out\r\nto-err\r\n/dev/pts/0\r\n" {
		t.Errorf("logs of a -t container: %s", res)
	}
}

func TestLogsOfForegroundTerminal(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	master, term := openPty(t, 24, 80)
	out, code := g.runOnTerminal(t, master, term, "", "run", "-it", "--name", "fg", "busybox", "sh", "-c", "echo on-terminal; exit 2")
	if code != 2 || !strings.Contains(out, "on-terminal") {
		t.Errorf("run -it: exit %d, output %q", code, out)
	}
	if got := g.ok("logs", "fg"); got != "on-terminal\r\n" {
		t.Errorf("logs of a container run with -it in the foreground = %q", got)
	}
}
