//go:build integration

package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// seccompProbeDir builds testdata/seccompprobe once into a directory of
// its own, which the tests bind into containers at /probe.
var seccompProbeDir = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(env.workDir, "seccompprobe")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "seccompprobe"), "./testdata/seccompprobe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build seccompprobe: %v\n%s", err, out)
	}
	return dir, nil
})

// probeMount returns the -v value that binds the probe at /probe.
func probeMount(t *testing.T) string {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the seccomp probe makes i386 and x32 system calls, which only amd64 has")
	}
	dir, err := seccompProbeDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir + ":/probe:ro"
}

// probeResults parses the probe's "NAME RESULT" lines.
func probeResults(t *testing.T, out string) map[string]string {
	t.Helper()
	results := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, result, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("probe printed %q", line)
		}
		results[name] = result
	}
	return results
}

// blockedByDefault are the probe's calls that Docker's default profile
// blocks for a container without CAP_SYS_ADMIN, with the error it returns.
var blockedByDefault = map[string]string{
	"keyctl":                        "EPERM",
	"add_key":                       "EPERM",
	"personality-addr-no-randomize": "EPERM",
	"socket-vsock":                  "EPERM",
	"i386-keyctl":                   "EPERM",
	"x32-keyctl":                    "EPERM",
}

// allowedByDefault are the probe's calls that the profile lets through.
var allowedByDefault = map[string]string{
	"personality-query": "ok",
	"socket-inet":       "ok",
	"i386-getpid":       "ok",
}

func TestSeccompDefaultProfile(t *testing.T) {
	testSeccompDefaultProfile(t, newRootless(t))
}

func TestSeccompDefaultProfileAsRoot(t *testing.T) {
	testSeccompDefaultProfile(t, newRootful(t))
}

func testSeccompDefaultProfile(t *testing.T, g *gocker) {
	g.busybox(t)
	probe := probeMount(t)

	out := g.ok("run", "--rm", "--network", "none", "busybox", "grep", "^Seccomp:", "/proc/self/status")
	if out != "Seccomp:\t2\n" {
		t.Errorf("default: /proc/self/status has %q, want filter mode 2", out)
	}
	got := probeResults(t, g.ok("run", "--rm", "--network", "none", "-v", probe, "busybox", "/probe/seccompprobe"))
	for name, want := range blockedByDefault {
		if got[name] != want {
			t.Errorf("default profile: %s = %q, want %s", name, got[name], want)
		}
	}
	for name, want := range allowedByDefault {
		if got[name] != want {
			t.Errorf("default profile: %s = %q, want %s", name, got[name], want)
		}
	}
	// The --init init runs under the filter too, and its command
	// inherits it.
	out = g.ok("run", "--rm", "--network", "none", "--init", "busybox", "grep", "^Seccomp:", "/proc/1/status", "/proc/self/status")
	if out != "/proc/1/status:Seccomp:\t2\n/proc/self/status:Seccomp:\t2\n" {
		t.Errorf("--init: status files have %q, want filter mode 2 for the init and the command", out)
	}

	// clone and unshare of a namespace need CAP_SYS_ADMIN in the profile.
	res := g.try("run", "--rm", "--network", "none", "busybox", "unshare", "-U", "true")
	if res.code != 1 || !strings.Contains(res.stderr, "Operation not permitted") {
		t.Errorf("unshare -U under the default profile: %s", res)
	}
	g.ok("run", "--rm", "--network", "none", "--cap-add", "SYS_ADMIN", "busybox", "unshare", "-U", "true")

	// Unconfined, the same calls reach the kernel.
	out = g.ok("run", "--rm", "--network", "none", "--security-opt", "seccomp=unconfined", "busybox", "grep", "^Seccomp:", "/proc/self/status")
	if out != "Seccomp:\t0\n" {
		t.Errorf("unconfined: /proc/self/status has %q, want mode 0", out)
	}
	got = probeResults(t, g.ok("run", "--rm", "--network", "none", "--security-opt", "seccomp=unconfined", "-v", probe, "busybox", "/probe/seccompprobe"))
	for name := range blockedByDefault {
		if got[name] == "" || got[name] == "EPERM" {
			t.Errorf("unconfined: %s = %q, want a result from the kernel", name, got[name])
		}
	}
	if got["personality-addr-no-randomize"] != "ok" {
		t.Errorf("unconfined: personality(ADDR_NO_RANDOMIZE) = %q, want ok", got["personality-addr-no-randomize"])
	}
	g.ok("run", "--rm", "--network", "none", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true")

	if v := g.field(t, mustCreate(t, g, "default"), "{{json .HostConfig.SecurityOpt}}"); v != "null" {
		t.Errorf("inspect without --security-opt: SecurityOpt = %s, want null", v)
	}
	if v := g.field(t, mustCreate(t, g, "unconfined", "--security-opt", "seccomp=unconfined"), "{{json .HostConfig.SecurityOpt}}"); v != `["seccomp=unconfined"]` {
		t.Errorf("inspect with seccomp=unconfined: SecurityOpt = %s", v)
	}
}

// mustCreate runs a container named name that exits at once and returns
// its name.
func mustCreate(t *testing.T, g *gocker, name string, args ...string) string {
	t.Helper()
	g.ok(append(append([]string{"run", "--name", name, "--network", "none"}, args...), "busybox", "true")...)
	return name
}

func TestSeccompExecAndRestart(t *testing.T) {
	testSeccompExecAndRestart(t, newRootless(t))
}

func TestSeccompExecAndRestartAsRoot(t *testing.T) {
	testSeccompExecAndRestart(t, newRootful(t))
}

// testSeccompExecAndRestart checks that gocker exec and a restart give
// the process the container's filter.
func testSeccompExecAndRestart(t *testing.T, g *gocker) {
	g.busybox(t)
	probe := probeMount(t)
	g.runDetached(t, "--name", "box", "--network", "none", "-v", probe, "busybox",
		"sh", "-c", "grep ^Seccomp: /proc/self/status; exec sleep 1000")
	if out := g.ok("exec", "box", "grep", "^Seccomp:", "/proc/self/status"); out != "Seccomp:\t2\n" {
		t.Errorf("exec: /proc/self/status has %q, want filter mode 2", out)
	}
	got := probeResults(t, g.ok("exec", "box", "/probe/seccompprobe"))
	if got["keyctl"] != "EPERM" || got["i386-keyctl"] != "EPERM" || got["socket-inet"] != "ok" {
		t.Errorf("exec: probe results %v", got)
	}
	g.ok("restart", "-t", "1", "box")
	waitUntil(t, 30*time.Second, "two log lines", func() bool {
		return strings.Count(g.ok("logs", "box"), "Seccomp:") == 2
	})
	if logs := g.ok("logs", "box"); logs != "Seccomp:\t2\nSeccomp:\t2\n" {
		t.Errorf("logs across a restart: %q, want filter mode 2 twice", logs)
	}

	g.runDetached(t, "--name", "open", "--network", "none", "--security-opt", "seccomp=unconfined", "busybox", "sleep", "1000")
	if out := g.ok("exec", "open", "grep", "^Seccomp:", "/proc/self/status"); out != "Seccomp:\t0\n" {
		t.Errorf("exec in an unconfined container: /proc/self/status has %q, want mode 0", out)
	}
}

// customProfile allows everything but keyctl, which fails with ENOSYS,
// and mkdir, which fails with the default errno of SCMP_ACT_ERRNO.
const customProfile = `{
	"defaultAction": "SCMP_ACT_ALLOW",
	"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	"syscalls": [
		{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
	]
}`

func TestSeccompCustomProfile(t *testing.T) {
	testSeccompCustomProfile(t, newRootless(t))
}

func TestSeccompCustomProfileAsRoot(t *testing.T) {
	testSeccompCustomProfile(t, newRootful(t))
}

func testSeccompCustomProfile(t *testing.T, g *gocker) {
	g.busybox(t)
	path := filepath.Join(env.workDir, "profile-"+filepath.Base(filepath.Dir(g.root))+".json")
	if err := os.WriteFile(path, []byte(customProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := "seccomp=" + path
	got := probeResults(t, g.ok("run", "--rm", "--network", "none", "--security-opt", opt, "-v", probeMount(t), "busybox", "/probe/seccompprobe"))
	if got["keyctl"] != "ENOSYS" || got["i386-keyctl"] != "ENOSYS" {
		t.Errorf("custom profile: keyctl = %q, i386 keyctl = %q, want ENOSYS", got["keyctl"], got["i386-keyctl"])
	}
	if got["add_key"] == "EPERM" || got["personality-addr-no-randomize"] != "ok" {
		t.Errorf("custom profile: add_key = %q, personality = %q, want them allowed", got["add_key"], got["personality-addr-no-randomize"])
	}
	res := g.try("run", "--rm", "--network", "none", "--security-opt", opt, "busybox", "mkdir", "/tmp/d")
	if res.code != 1 || !strings.Contains(res.stderr, "Operation not permitted") {
		t.Errorf("mkdir under the custom profile: %s", res)
	}
	g.ok("run", "--rm", "--network", "none", "--security-opt", opt, "busybox", "touch", "/tmp/f")

	// The record keeps the profile itself, as Docker's does, so the file
	// may go: the container starts again with it.
	g.ok("run", "--name", "custom", "--network", "none", "--security-opt", opt, "-v", probeMount(t), "busybox", "/probe/seccompprobe")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	want := `["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",`
	if v := g.field(t, "custom", "{{json .HostConfig.SecurityOpt}}"); !strings.HasPrefix(v, want) {
		t.Errorf("inspect: SecurityOpt = %s, want the compact profile", v)
	}
	got = probeResults(t, g.ok("start", "-a", "custom"))
	if got["keyctl"] != "ENOSYS" {
		t.Errorf("start after the profile file was removed: keyctl = %q, want ENOSYS", got["keyctl"])
	}
}

func TestSeccompBadOptions(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	writeProfile := func(name, content string) string {
		t.Helper()
		path := filepath.Join(env.workDir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	badJSON := writeProfile("bad-profile.json", `{"defaultAction": "SCMP_ACT_ERRNO",`)
	badAction := writeProfile("bad-action.json", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_MAYBE"}]}`)
	denyAll := writeProfile("deny-all.json", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["exit_group"], "action": "SCMP_ACT_ALLOW"}]}`)
	badArch := writeProfile("bad-arch.json", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_BOGUS"]}`)
	missing := filepath.Join(env.workDir, "no-such-profile.json")

	for _, tc := range []struct{ opt, want string }{
		{"seccomp=" + missing, "no such file or directory"},
		{"seccomp=" + badJSON, "unexpected end of JSON input"},
		{"seccomp=" + badAction, `unknown action "SCMP_ACT_MAYBE"`},
		{"seccomp=" + denyAll, "denies execve, sendmsg, rt_sigreturn, which a container needs to start"},
		{"seccomp=" + badArch, `unknown architecture "SCMP_ARCH_BOGUS"`},
		{"apparmor=docker-default", "gocker applies no AppArmor profile"},
		{"label=type:svirt_t", "use apparmor=unconfined or label=disable"},
		{"no-new-privileges=false", "gocker always sets no_new_privs"},
	} {
		stderr := g.fails(125, "run", "--rm", "--network", "none", "--security-opt", tc.opt, "busybox", "true")
		if !strings.Contains(stderr, fmt.Sprintf("%q", tc.opt)) || !strings.Contains(stderr, tc.want) {
			t.Errorf("--security-opt %s: stderr %q, want the value and %q", tc.opt, stderr, tc.want)
		}
	}
	if ids := g.lines(g.try("ps", "-aq")); len(ids) != 0 {
		t.Errorf("rejected runs left containers: %v", ids)
	}
	// no-new-privileges is always on, so asking for it changes nothing,
	// and neither do the options that turn off AppArmor and SELinux,
	// which Docker's command lines often carry.
	g.ok("run", "--rm", "--network", "none", "--security-opt", "no-new-privileges", "busybox", "true")
	out := g.ok("run", "--name", "lsm", "--network", "none", "--security-opt", "apparmor=unconfined",
		"--security-opt", "label=disable", "--security-opt", "seccomp=unconfined", "busybox", "grep", "Seccomp:", "/proc/self/status")
	if !strings.Contains(out, "Seccomp:\t0") {
		t.Errorf("with apparmor=unconfined, label=disable and seccomp=unconfined: %q", out)
	}
	if got := g.field(t, "lsm", "{{json .HostConfig.SecurityOpt}}"); got != `["apparmor=unconfined","label=disable","seccomp=unconfined"]` {
		t.Errorf("SecurityOpt = %s", got)
	}
	g.ok("rm", "lsm")
}
