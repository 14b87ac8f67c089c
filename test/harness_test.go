//go:build integration

package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Users prepared by scripts/test-setup.sh; GOCKER_TEST_USER and
// GOCKER_TEST_NOSUB_USER name others, so that several checkouts can run
// their tests side by side.
var (
	testUser    = envOr("GOCKER_TEST_USER", "gockertest")
	noSubIDUser = envOr("GOCKER_TEST_NOSUB_USER", "gockernosub")
)

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// alpineTarball is the Alpine 3.20.3 minirootfs tarball named by
// $GOCKER_TEST_ALPINE; tests that need it skip without it.
func alpineTarball() string { return os.Getenv("GOCKER_TEST_ALPINE") }

// debianTarball is where scripts/test-setup.sh caches the debootstrap
// image; GOCKER_TEST_DEBIAN overrides it.
func debianTarball() string {
	if p := os.Getenv("GOCKER_TEST_DEBIAN"); p != "" {
		return p
	}
	return "/var/cache/gocker-test/debian-bookworm.tar.gz"
}

// env is the shared state of the test binary.
var env struct {
	workDir string // world-traversable scratch directory
	binary  string // the gocker binary under test: $GOCKER_TEST_BINARY, or built from ../cmd/gocker
	setup   error  // why the shared setup failed
}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "gocker-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		env.workDir = dir
		if env.binary = os.Getenv("GOCKER_TEST_BINARY"); env.binary == "" {
			env.setup = buildBinary(dir)
		} else if err := os.Chmod(dir, 0o755); err != nil {
			env.setup = err
		}
		return m.Run()
	}()
	os.Exit(code)
}

func buildBinary(dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	env.binary = filepath.Join(dir, "gocker")
	// The same build as "make build": gocker and the container init
	// binary next to it, with one build id.
	cmd := exec.Command("../scripts/build.sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build gocker: %v\n%s", err, out)
	}
	return nil
}

// requireSetup stops the test when the binary could not be built.
func requireSetup(t *testing.T) {
	t.Helper()
	if env.setup != nil {
		t.Fatal(env.setup)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the harness runs gocker as other users and as root")
	}
}

func requireBinary(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("needs %s on $PATH (install it with scripts/test-setup.sh)", name)
	}
	return path
}

// account is a user the tests run gocker as.
type account struct {
	name     string
	uid, gid int
	home     string
}

// sysProcAttr runs a command as the account, with no supplementary
// groups.
func (a *account) sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid), Groups: []uint32{}}}
}

func lookupAccount(t *testing.T, name string) account {
	t.Helper()
	requireRoot(t)
	u, err := user.Lookup(name)
	if err != nil {
		t.Skipf("needs the user %s (create it with scripts/test-setup.sh): %v", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return account{name: name, uid: uid, gid: gid, home: u.HomeDir}
}

// gocker runs the binary as one user with its own store and runtime
// directory.
type gocker struct {
	t       *testing.T
	acct    *account // nil: root
	root    string   // --root
	runtime string   // $XDG_RUNTIME_DIR
	env     []string // more environment variables, such as DOCKER_CONFIG
	// netns is the network namespace that root's commands run in, so
	// that bridge networking never touches the host's.
	netns string
	// resolvConf, when set, is bound over /etc/resolv.conf for the
	// user's commands, in a mount namespace of each command's own.
	resolvConf string
	// binary replaces the gocker binary under test when set.
	binary string
	// wrapper is a command line that runs before gocker and executes its
	// arguments, such as a shell that changes signal dispositions.
	wrapper []string
}

// newRootless returns a gocker for the unprivileged test user with a fresh
// store that is removed (through gocker's own rm and rmi, then as root)
// when the test ends.
func newRootless(t *testing.T) *gocker {
	t.Helper()
	requireSetup(t)
	acct := lookupAccount(t, testUser)
	return newGocker(t, &acct)
}

// newRootful returns a gocker run as root with a fresh store, inside a
// network namespace of its own (see [newTestNetns]).
func newRootful(t *testing.T) *gocker {
	t.Helper()
	requireSetup(t)
	requireRoot(t)
	ns := newTestNetns(t)
	g := newGocker(t, nil)
	g.netns = ns
	return g
}

func newGocker(t *testing.T, acct *account) *gocker {
	t.Helper()
	base, err := os.MkdirTemp(env.workDir, "store-")
	if err != nil {
		t.Fatal(err)
	}
	g := &gocker{t: t, acct: acct, root: filepath.Join(base, "root"), runtime: filepath.Join(base, "run")}
	for _, d := range []string{g.root, g.runtime} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if acct != nil {
		for _, d := range []string{base, g.root, g.runtime} {
			if err := os.Chown(d, acct.uid, acct.gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { g.cleanup(base) })
	return g
}

// cleanup removes every container, running ones too, then the store.
// Files owned by subordinate ids are removed by root, which may delete
// anything.
func (g *gocker) cleanup(base string) {
	if ids := g.lines(g.try("ps", "-aq", "--no-trunc")); len(ids) > 0 {
		g.try(append([]string{"rm", "-f"}, ids...)...)
	}
	if err := os.RemoveAll(base); err != nil {
		g.t.Errorf("remove test store: %v", err)
	}
}

// result is a finished gocker command.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r result) String() string {
	return fmt.Sprintf("gocker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// command returns an unstarted gocker command with the user's credentials
// and environment.
func (g *gocker) command(ctx context.Context, args ...string) *exec.Cmd {
	binary := env.binary
	if g.binary != "" {
		binary = g.binary
	}
	// target is the gocker command line, after the wrapper if there is one.
	target := append(append(append([]string{}, g.wrapper...), binary, "--root", g.root), args...)
	full := target[1:]
	cmd := exec.CommandContext(ctx, target[0], full...)
	cmd.Dir = env.workDir
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR=" + g.runtime, "LANG=C"}
	switch {
	case g.acct == nil:
		// Root's network state (bridge leases) stays with the test.
		cmd.Env = append(cmd.Env, "HOME=/root", "GOCKER_RUNTIME_DIR="+filepath.Join(g.runtime, "gocker"))
		if g.netns != "" {
			cmd.Path = lookPath("nsenter")
			cmd.Args = append([]string{"nsenter", "--net=/run/netns/" + g.netns, "--"}, target...)
		}
	case tunNode(g.t) != "" || g.resolvConf != "":
		cmd.Env = append(cmd.Env, "HOME="+g.acct.home, "USER="+g.acct.name)
		// The user gets a usable /dev/net/tun in a mount namespace of the
		// command's own; the host's node stays as it is.
		cmd.Path = lookPath("unshare")
		cmd.Args = append([]string{"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
			`{ [ -z "$TUN_" ] || mount --bind "$TUN_" /dev/net/tun; } &&
			{ [ -z "$RESOLV_" ] || mount --bind "$RESOLV_" /etc/resolv.conf; } &&
			exec setpriv --reuid="$UID_" --regid="$GID_" --clear-groups -- "$@"`,
			"sh"}, target...)
		cmd.Env = append(cmd.Env, fmt.Sprintf("UID_=%d", g.acct.uid), fmt.Sprintf("GID_=%d", g.acct.gid),
			"TUN_="+tunNode(g.t), "RESOLV_="+g.resolvConf)
	default:
		cmd.Env = append(cmd.Env, "HOME="+g.acct.home, "USER="+g.acct.name)
		cmd.SysProcAttr = g.acct.sysProcAttr()
	}
	cmd.Env = append(cmd.Env, g.env...)
	return cmd
}

// try runs gocker to the end with a two-minute limit and returns what it
// printed and its exit status.
func (g *gocker) try(args ...string) result {
	return g.tryInput("", args...)
}

func (g *gocker) tryInput(stdin string, args ...string) result {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := g.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	res := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		g.t.Fatalf("gocker %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// ok runs gocker and fails the test unless it exits 0; it returns stdout.
func (g *gocker) ok(args ...string) string {
	g.t.Helper()
	res := g.try(args...)
	if res.code != 0 {
		g.t.Fatalf("%s", res)
	}
	return res.stdout
}

// fails runs gocker, expects exit status code and returns stderr.
func (g *gocker) fails(code int, args ...string) string {
	g.t.Helper()
	res := g.try(args...)
	if res.code != code {
		g.t.Fatalf("want exit %d, got %s", code, res)
	}
	return res.stderr
}

func (g *gocker) lines(res result) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// subIDStart returns the first subordinate uid of the test user.
func (g *gocker) subIDStart(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/etc/subuid")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 3 && (f[0] == g.acct.name || f[0] == strconv.Itoa(g.acct.uid)) {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatalf("no /etc/subuid entry for %s", g.acct.name)
	return 0
}
