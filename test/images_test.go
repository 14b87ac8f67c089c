//go:build integration

package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var rootfsOnce sync.Map // account name -> *rootfsResult

type rootfsResult struct {
	once sync.Once
	dir  string
	err  error
}

// busyboxRootfs builds the busybox root filesystem with scripts/mkbusybox.sh
// once per user, owned by that user, as a user would before gocker init.
func (g *gocker) busyboxRootfs(t *testing.T) string {
	t.Helper()
	requireBinary(t, "busybox")
	name := "root"
	if g.acct != nil {
		name = g.acct.name
	}
	v, _ := rootfsOnce.LoadOrStore(name, &rootfsResult{})
	r := v.(*rootfsResult)
	r.once.Do(func() {
		r.dir = filepath.Join(env.workDir, "busybox-"+name)
		script, _ := filepath.Abs("../scripts/mkbusybox.sh")
		cmd := exec.Command("sh", script, r.dir)
		if g.acct != nil {
			if err := os.Mkdir(r.dir, 0o755); err != nil {
				r.err = err
				return
			}
			if err := os.Chown(r.dir, g.acct.uid, g.acct.gid); err != nil {
				r.err = err
				return
			}
			cmd.SysProcAttr = g.acct.sysProcAttr()
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			r.err = err
			t.Logf("mkbusybox.sh: %s", out)
		}
	})
	if r.err != nil {
		t.Fatalf("build busybox root filesystem: %v", r.err)
	}
	return r.dir
}

// busybox creates the image "busybox" with "CMD sh" in the store.
func (g *gocker) busybox(t *testing.T) {
	t.Helper()
	g.ok("init", "--change", `CMD ["sh"]`, g.busyboxRootfs(t), "busybox")
}

// alpine imports the Alpine minirootfs as "alpine", or skips the test.
func (g *gocker) alpine(t *testing.T) {
	t.Helper()
	path := requireAlpine(t)
	g.ok("import", "--change", `CMD ["/bin/sh"]`, path, "alpine")
}

// requireAlpine returns the absolute path of the Alpine tarball, or skips.
func requireAlpine(t *testing.T) string {
	t.Helper()
	if alpineTarball() == "" {
		t.Skip("needs the Alpine 3.20.3 minirootfs tarball: set GOCKER_TEST_ALPINE to its path")
	}
	path, err := filepath.Abs(alpineTarball())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs the Alpine minirootfs tarball named by GOCKER_TEST_ALPINE: %v", err)
	}
	return path
}

// debian imports the cached debootstrap tarball as "debian", or skips.
func (g *gocker) debian(t *testing.T) {
	t.Helper()
	path := debianTarball()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs the Debian bookworm tarball at %s (scripts/test-setup.sh builds it with debootstrap): %v", path, err)
	}
	g.ok("import", "--change", `CMD ["bash"]`, path, "debian:bookworm")
}

func TestInitImagesRmi(t *testing.T) {
	g := newRootless(t)
	id := strings.TrimSpace(g.ok("init", g.busyboxRootfs(t), "busybox:1"))
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("init printed %q, want an image id", id)
	}
	out := g.ok("images")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("images printed %d lines, want a header and one image:\n%s", len(lines), out)
	}
	fields := strings.Fields(lines[1])
	if fields[0] != "busybox" || fields[1] != "1" || fields[2] != id[7:19] {
		t.Errorf("images row = %q, want busybox 1 %s", lines[1], id[7:19])
	}
	if q := strings.TrimSpace(g.ok("images", "-q")); q != id[7:19] {
		t.Errorf("images -q = %q, want %q", q, id[7:19])
	}

	g.ok("run", "--name", "user", "busybox:1", "true")
	stderr := g.fails(1, "rmi", "busybox:1")
	if !strings.Contains(stderr, "used by container user") {
		t.Errorf("rmi of an image in use: %q, want it to name the container", stderr)
	}
	g.ok("rm", "user")
	rmi := g.ok("rmi", "busybox:1")
	if !strings.Contains(rmi, "Untagged: busybox:1\n") || !strings.Contains(rmi, "Deleted: "+id) {
		t.Errorf("rmi printed %q", rmi)
	}
	if out := strings.TrimSpace(g.ok("images", "-q")); out != "" {
		t.Errorf("images -q after rmi = %q, want nothing", out)
	}
	entries, err := os.ReadDir(filepath.Join(g.root, "layers"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("layers left after rmi: %v", entries)
	}
}

func TestImagesFilter(t *testing.T) {
	g := newRootless(t)
	id := strings.TrimSpace(g.ok("init", g.busyboxRootfs(t), "busybox:1"))
	g.ok("tag", "busybox:1", "127.0.0.1:5000/team/box:2")
	short := id[7:19]
	tests := []struct {
		filter string
		want   string
	}{
		{"busybox", short},
		{"busybox:1", short},
		{"docker.io/library/busybox:1", short},
		{"busybox:2", ""},
		{"127.0.0.1:5000/team/box", short},
		{"127.0.0.1:5000/team/box:2", short},
		{"127.0.0.1:5000/team/box:1", ""},
	}
	for _, tc := range tests {
		if out := strings.TrimSpace(g.ok("images", "-q", tc.filter)); out != tc.want {
			t.Errorf("images -q %s = %q, want %q", tc.filter, out, tc.want)
		}
	}

	for _, bad := range []string{"BAD[", "Busybox", "busybox:bad tag"} {
		res := g.try("images", bad)
		if res.code != 125 {
			t.Errorf("images %q: exit %d, want 125", bad, res.code)
		}
		if !strings.Contains(res.stderr, "invalid image reference") {
			t.Errorf("images %q: stderr %q, want an invalid reference message", bad, res.stderr)
		}
		if res.stdout != "" {
			t.Errorf("images %q printed %q, want no table", bad, res.stdout)
		}
	}
}

func TestRmiForceUntagsUsedImage(t *testing.T) {
	g := newRootless(t)
	id := strings.TrimSpace(g.ok("init", g.busyboxRootfs(t), "busybox:1"))
	g.ok("run", "--name", "user", "--network", "none", "busybox:1", "true")

	if got := g.ok("rmi", "-f", "busybox:1"); got != "Untagged: busybox:1\n" {
		t.Errorf("rmi -f of an image a stopped container uses printed %q, want only the untag", got)
	}
	rows := g.lines(g.try("images"))
	if len(rows) != 2 {
		t.Fatalf("images printed %q, want a header and the untagged image", rows)
	}
	if fields := strings.Fields(rows[1]); fields[0] != "<none>" || fields[1] != "<none>" || fields[2] != id[7:19] {
		t.Errorf("images row = %q, want <none> <none> %s", rows[1], id[7:19])
	}
	// --force cannot untag an image without tags, so both forms advise
	// only removing the container.
	for _, args := range [][]string{{"rmi", id[7:19]}, {"rmi", "-f", id[7:19]}} {
		stderr := g.fails(1, args...)
		if !strings.Contains(stderr, "gocker rm user") {
			t.Errorf("%s: %q, want the command that removes the container", strings.Join(args, " "), stderr)
		}
		if strings.Contains(stderr, "--force") {
			t.Errorf("%s: %q suggests --force, which does not remove the image", strings.Join(args, " "), stderr)
		}
	}
	if got := g.ok("start", "-a", "user"); got != "" {
		t.Errorf("start -a of the container printed %q", got)
	}
	if got := g.field(t, "user", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
		t.Errorf("state after start = %q, want exited 0", got)
	}
	g.ok("commit", "user", "mycommit:1")
	if got := g.ok("run", "--rm", "--network", "none", "mycommit:1", "echo", "committed"); got != "committed\n" {
		t.Errorf("run of the committed image printed %q", got)
	}

	// Images of other registries keep the registry in the untag line.
	g.ok("tag", "mycommit:1", "localhost:5000/team/mycommit:2")
	if got := g.ok("rmi", "localhost:5000/team/mycommit:2"); got != "Untagged: localhost:5000/team/mycommit:2\n" {
		t.Errorf("rmi of a second tag printed %q", got)
	}
	rmi := g.ok("rmi", "mycommit:1")
	if !strings.HasPrefix(rmi, "Untagged: mycommit:1\nDeleted: sha256:") {
		t.Errorf("rmi of the committed image printed %q", rmi)
	}

	// Without tags, the image stays while the container uses it, and goes
	// with rmi once the container is removed.
	stderr := g.fails(1, "rmi", "-f", id)
	if !strings.Contains(stderr, "used by container user") {
		t.Errorf("rmi -f of the untagged image in use: %q, want it to name the container", stderr)
	}
	g.ok("rm", "user")
	if rmi := g.ok("rmi", id); !strings.Contains(rmi, "Deleted: "+id) {
		t.Errorf("rmi of the untagged image printed %q", rmi)
	}
	if out := strings.TrimSpace(g.ok("images", "-q")); out != "" {
		t.Errorf("images -q after rmi = %q, want nothing", out)
	}
}

func TestImageInspectFormat(t *testing.T) {
	g := newRootless(t)
	id := strings.TrimSpace(g.ok("init", "--change", `CMD ["sh"]`, g.busyboxRootfs(t), "busybox:1"))

	if got := g.ok("image", "inspect", "-f", "{{.Id}} {{json .RepoTags}} {{json .Config.Cmd}}", "busybox:1"); got != id+` ["busybox:1"] ["sh"]`+"\n" {
		t.Errorf("image inspect -f = %q, want the id, tags and command", got)
	}
	if got := g.ok("image", "inspect", "--format", "{{.Os}}", "busybox:1", "busybox:1"); got != "linux\nlinux\n" {
		t.Errorf("image inspect --format of two images = %q, want one line each", got)
	}
	res := g.try("image", "inspect", "-f", "{{.Os}}", "busybox:1", "missing:1")
	if res.code != 1 || res.stdout != "linux\n" || !strings.Contains(res.stderr, "missing") {
		t.Errorf("image inspect -f of a found and a missing image: %s", res)
	}
	stderr := g.fails(125, "image", "inspect", "-f", "{{.Os", "busybox:1")
	if !strings.Contains(stderr, "invalid --format") {
		t.Errorf("image inspect with a bad template: %q", stderr)
	}
}

func TestImageInspectUnknownFlag(t *testing.T) {
	g := newRootless(t)
	res := g.try("image", "inspect", "--bogus", "busybox")
	if res.code != 125 {
		t.Fatalf("want exit 125, got %s", res)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}
	if want := "gocker: unknown flag: --bogus\nSee 'gocker image inspect --help'.\n"; res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
}

// An unknown subcommand of a command group names the group and its help,
// where Docker users look for commands such as "container ls".
func TestUnknownSubcommand(t *testing.T) {
	g := newRootless(t)
	for _, tt := range []struct{ args, want string }{
		{"bogus", "gocker: unknown command \"bogus\"\nSee 'gocker --help'.\n"},
		{"container ls", "gocker: unknown command \"container ls\"\nSee 'gocker container --help'.\n"},
		{"image ls", "gocker: unknown command \"image ls\"\nSee 'gocker image --help'.\n"},
		{"system df", "gocker: unknown command \"system df\"\nSee 'gocker system --help'.\n"},
	} {
		res := g.try(strings.Fields(tt.args)...)
		if res.code != 125 {
			t.Errorf("gocker %s: want exit 125, got %s", tt.args, res)
		}
		if res.stderr != tt.want {
			t.Errorf("gocker %s: stderr = %q, want %q", tt.args, res.stderr, tt.want)
		}
	}
}

func TestImportFormats(t *testing.T) {
	g := newRootless(t)
	rootfs := g.busyboxRootfs(t)
	plain := filepath.Join(env.workDir, "busybox-formats.tar")
	if out, err := exec.Command("tar", "-C", rootfs, "--numeric-owner", "--owner=0", "--group=0", "-cf", plain, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	compressors := map[string][]string{"gzip": {"gzip", "-kf"}, "xz": {"xz", "-kf"}, "zstd": {"zstd", "-qf"}, "bzip2": {"bzip2", "-kf"}}
	suffix := map[string]string{"gzip": ".gz", "xz": ".xz", "zstd": ".zst", "bzip2": ".bz2"}
	var ids []string
	for _, format := range []string{"plain", "gzip", "xz", "zstd", "bzip2"} {
		t.Run(format, func(t *testing.T) {
			file := plain
			if format != "plain" {
				requireBinary(t, compressors[format][0])
				args := append(compressors[format][1:], plain)
				if out, err := exec.Command(compressors[format][0], args...).CombinedOutput(); err != nil {
					t.Fatalf("%s: %v: %s", format, err, out)
				}
				file = plain + suffix[format]
			}
			os.Chmod(file, 0o644)
			id := strings.TrimSpace(g.ok("import", file, "fmt:"+format))
			ids = append(ids, id)
			if got := g.ok("run", "--rm", "fmt:"+format, "cat", "/etc/motd"); got != "gocker busybox image\n" {
				t.Errorf("motd = %q", got)
			}
		})
	}
	// Every format holds the same tar, so every import shares one layer.
	entries, _ := os.ReadDir(filepath.Join(g.root, "layers"))
	if len(entries) != 1 {
		t.Errorf("%d layer directories after importing one tar in %d formats, want 1", len(entries), len(ids))
	}
}

func TestImportFromStdin(t *testing.T) {
	g := newRootless(t)
	data, err := os.ReadFile(requireAlpine(t))
	if err != nil {
		t.Fatal(err)
	}
	res := g.tryInput(string(data), "import", "-", "alpine:stdin")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	if out := g.ok("run", "--rm", "alpine:stdin", "cat", "/etc/alpine-release"); out != "3.20.3\n" {
		t.Errorf("alpine-release = %q, want 3.20.3", out)
	}
}

func TestImportBadInput(t *testing.T) {
	g := newRootless(t)
	junk := filepath.Join(env.workDir, "junk.tar")
	if err := os.WriteFile(junk, []byte("this is not a tar archive, not even close\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a tar", []string{"import", junk, "junk"}, "junk"},
		{"missing file", []string{"import", "/nonexistent.tar", "x"}, "/nonexistent.tar"},
		{"bad name", []string{"import", junk, "Bad Name"}, "invalid"},
		{"bad change", []string{"import", "--change", "RUN make", junk, "x"}, "RUN"},
		{"init of a file", []string{"init", junk, "x"}, "not a directory"},
		{"missing arguments", []string{"import", junk}, "requires exactly 2 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := g.fails(125, tt.args...)
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
			}
		})
	}
	if out := strings.TrimSpace(g.ok("images", "-q")); out != "" {
		t.Errorf("failed imports left images: %q", out)
	}
	entries, _ := os.ReadDir(filepath.Join(g.root, "layers"))
	if len(entries) != 0 {
		t.Errorf("failed imports left layer directories: %v", entries)
	}
}

func TestImportedOwnersInSubordinateRange(t *testing.T) {
	g := newRootless(t)
	g.alpine(t)
	start := g.subIDStart(t)
	// Alpine's /etc/shadow belongs to root:shadow (gid 42), /bin/busybox
	// to root: owners inside the image map to the user and to the
	// subordinate range on the host.
	var layer string
	entries, _ := os.ReadDir(filepath.Join(g.root, "layers"))
	for _, e := range entries {
		layer = filepath.Join(g.root, "layers", e.Name(), "diff")
	}
	tests := []struct {
		path     string
		uid, gid int
	}{
		{"bin/busybox", g.acct.uid, g.acct.gid},
		{"etc/shadow", g.acct.uid, start + 42 - 1},
	}
	for _, tt := range tests {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(layer, tt.path), &st); err != nil {
			t.Fatal(err)
		}
		if int(st.Uid) != tt.uid || int(st.Gid) != tt.gid {
			t.Errorf("%s owned by %d:%d on the host, want %d:%d", tt.path, st.Uid, st.Gid, tt.uid, tt.gid)
		}
	}
	if out := g.ok("run", "--rm", "alpine", "stat", "-c", "%u:%g", "/etc/shadow"); out != "0:42\n" {
		t.Errorf("owner of /etc/shadow inside = %q, want 0:42", out)
	}
}

// history lists an image's history newest first, with the committed
// layer's size and message on the image's own row.
func TestHistory(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)
	g.ok("run", "--name", "src", "busybox", "sh", "-c", "head -c 3000 /dev/zero > /three-k")
	id := strings.TrimSpace(g.ok("commit", "-m", "add three-k", "src", "hist:1"))
	base := strings.TrimSpace(g.ok("image", "inspect", "-f", "{{.Id}}", "busybox"))
	short := func(id string) string { return id[len("sha256:"):][:12] }

	lines := strings.Split(strings.TrimSpace(g.ok("history", "hist:1")), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "IMAGE ") {
		t.Fatalf("history:\n%s", strings.Join(lines, "\n"))
	}
	newest := regexp.MustCompile(`^` + short(id) + ` +Less than a second ago +gocker commit src +[0-9.]+kB +add three-k$`)
	if !newest.MatchString(lines[1]) {
		t.Errorf("newest row %q", lines[1])
	}

	// The row that ends the stored base image shows its id, as Docker
	// shows a parent image's. Rows of no stored image show <missing>.
	baseRows := 0
	for _, l := range lines[2:] {
		switch {
		case strings.HasPrefix(l, short(base)+" "):
			baseRows++
		case !strings.HasPrefix(l, "<missing> "):
			t.Errorf("older row %q, want the base image's id or <missing>", l)
		}
	}
	if baseRows != 1 {
		t.Errorf("%d rows show the base image %s, want 1", baseRows, base)
	}
	if !strings.HasPrefix(lines[2], short(base)) {
		t.Errorf("row below the newest %q, want the base image %s", lines[2], base)
	}

	quiet := strings.Fields(g.ok("history", "-q", "--no-trunc", "hist:1"))
	if len(quiet) != len(lines)-1 {
		t.Fatalf("history -q --no-trunc = %v, want one line per row", quiet)
	}
	if quiet[0] != id {
		t.Errorf("history -q --no-trunc first line %s, want %s", quiet[0], id)
	}
	if quiet[1] != base {
		t.Errorf("history -q --no-trunc second line %s, want %s", quiet[1], base)
	}

	// Sizes in bytes: the layer contains the 3000-byte file and tar
	// headers.
	raw := strings.Split(g.ok("image", "history", "-H=false", "hist:1"), "\n")[1]
	f := strings.Fields(raw)
	if len(f) != 8 || !strings.HasPrefix(f[1], "20") {
		t.Fatalf("row without -H: %q", raw)
	}
	if size, err := strconv.Atoi(f[5]); err != nil || size < 3000 || size > 20000 {
		t.Errorf("layer size %q in %q, want the 3000-byte file with its headers", f[5], raw)
	}

	for _, cmd := range []string{"history", "image history"} {
		want := fmt.Sprintf("gocker: \"gocker %s\" requires exactly 1 argument: IMAGE\n", cmd)
		if stderr := g.fails(125, strings.Fields(cmd)...); stderr != want {
			t.Errorf("%s without an image: stderr = %q, want %q", cmd, stderr, want)
		}
	}
	// A missing image is Docker's daemon error, exit 1, for both names.
	for _, cmd := range [][]string{{"history"}, {"image", "history"}} {
		if stderr := g.fails(1, append(cmd, "no-such-image")...); !strings.Contains(stderr, "no such image: no-such-image") {
			t.Errorf("%s of a missing image: %q", strings.Join(cmd, " "), stderr)
		}
	}
}
