//go:build integration

package test

import (
	"archive/tar"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// inspected is the part of gocker image inspect that the tests read.
type inspected struct {
	ID           string   `json:"Id"`
	RepoTags     []string `json:"RepoTags"`
	RepoDigests  []string `json:"RepoDigests"`
	Architecture string   `json:"Architecture"`
	Os           string   `json:"Os"`
	Author       string   `json:"Author"`
	Comment      string   `json:"Comment"`
	Config       struct {
		Cmd []string `json:"Cmd"`
		Env []string `json:"Env"`
	} `json:"Config"`
	RootFS struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

func (g *gocker) inspect(t *testing.T, ref string) inspected {
	t.Helper()
	var out []inspected
	if err := json.Unmarshal([]byte(g.ok("image", "inspect", ref)), &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("image inspect %s printed %d images", ref, len(out))
	}
	return out[0]
}

// storedLayers lists the layer directories of g's store.
func (g *gocker) storedLayers(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(g.root, "layers"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPullRunCommitPushRoundTrip(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	img := multiLayerAlpine(t)
	reg.push(t, "alpine/multi:1", img)
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("alpine/multi:1")

	out := g.ok("pull", ref)
	if !strings.Contains(out, "Pull complete") || !strings.Contains(out, "Downloaded newer image") {
		t.Errorf("pull output = %q", out)
	}
	got := g.inspect(t, ref)
	if diff := cmp.Diff(diffIDs(t, img), got.RootFS.Layers); diff != "" {
		t.Errorf("diff ids (-registry +stored):\n%s", diff)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if want := reg.ref("alpine/multi@") + digest.String(); !slices.Contains(got.RepoDigests, want) {
		t.Errorf("RepoDigests = %v, want %s", got.RepoDigests, want)
	}
	if images := g.ok("images", "--digests"); !strings.Contains(images, digest.String()) {
		t.Errorf("images --digests = %q, want %s", images, digest)
	}
	if again := g.ok("pull", ref); !strings.Contains(again, "Already exists") || !strings.Contains(again, "up to date") {
		t.Errorf("second pull = %q, want every layer reused", again)
	}

	// Files of every layer, the whiteout and the opaque directory.
	check := g.ok("run", "--rm", ref, "sh", "-c",
		"cat /etc/alpine-release /layer4; ls /etc/apk; test -e /etc/motd && echo motd; ls -ln /etc/shadow | cut -c1-30; /usr/bin/env true && echo usr")
	for _, want := range []string{"3.20.3", "fourth layer", "only", "usr"} {
		if !strings.Contains(check, want) {
			t.Errorf("run output %q lacks %q", check, want)
		}
	}
	if strings.Contains(check, "motd") || strings.Contains(check, "world") {
		t.Errorf("run output %q: the whiteout or the opaque directory was not applied", check)
	}

	// Commit a container and push the result under another name.
	g.ok("run", "--name", "changer", ref, "sh", "-c", "echo committed > /root/note; rm /etc/alpine-release; mkdir -p /etc/apk; touch /etc/apk/added")
	g.ok("commit", "-m", "round trip", "--author", "Tester <t@example.com>", "-c", `CMD ["cat", "/root/note"]`, "changer", reg.ref("alpine/committed:2"))
	g.ok("push", reg.ref("alpine/committed:2"))
	pushed := g.inspect(t, reg.ref("alpine/committed:2"))
	if pushed.Author != "Tester <t@example.com>" || pushed.Comment != "round trip" {
		t.Errorf("author %q, comment %q, want the commit's", pushed.Author, pushed.Comment)
	}

	other := newRootless(t)
	other.useRegistry(t, reg)
	other.ok("pull", reg.ref("alpine/committed:2"))
	pulled := other.inspect(t, reg.ref("alpine/committed:2"))
	if diff := cmp.Diff(pushed.RootFS.Layers, pulled.RootFS.Layers); diff != "" {
		t.Errorf("diff ids after push and pull (-pushed +pulled):\n%s", diff)
	}
	if pushed.ID != pulled.ID {
		t.Errorf("image id %s after push and pull, want %s", pulled.ID, pushed.ID)
	}
	if out := other.ok("run", "--rm", reg.ref("alpine/committed:2")); out != "committed\n" {
		t.Errorf("run of the pulled commit = %q, want its CMD's output", out)
	}
	out = other.ok("run", "--rm", reg.ref("alpine/committed:2"), "sh", "-c", "test -e /etc/alpine-release || echo deleted; ls /etc/apk")
	if !strings.Contains(out, "deleted") || !strings.Contains(out, "added") {
		t.Errorf("pulled commit: %q, want the deletion and the new file", out)
	}
}

func TestPullPlatform(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.pushIndex(t, "multi/arch:1", platformIndex(t))
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("multi/arch:1")

	g.ok("pull", "-q", ref)
	if got := g.inspect(t, ref); got.Architecture != "amd64" || len(got.RootFS.Layers) != 3 {
		t.Errorf("default pull chose %s with %d layers, want this machine's image", got.Architecture, len(got.RootFS.Layers))
	}
	if out := g.ok("run", "--rm", ref, "cat", "/etc/alpine-release"); out != "3.20.3\n" {
		t.Errorf("run = %q", out)
	}
	g.ok("pull", "-q", "--platform", "linux/arm64", ref)
	if got := g.inspect(t, ref); got.Architecture != "arm64" || len(got.RootFS.Layers) != 1 {
		t.Errorf("--platform linux/arm64 chose %s with %d layers", got.Architecture, len(got.RootFS.Layers))
	}
	stderr := g.fails(125, "pull", "--platform", "linux/s390x", ref)
	if !strings.Contains(stderr, "no image for linux/s390x") || !strings.Contains(stderr, "linux/arm64/v8") || !strings.Contains(stderr, "linux/amd64") {
		t.Errorf("pull of a missing platform: %q, want the platforms on offer", stderr)
	}
	stderr = g.fails(125, "pull", "--platform", "linux", ref)
	if !strings.Contains(stderr, "os/arch") {
		t.Errorf("bad --platform: %q", stderr)
	}
}

// TestRunPlatformMismatch runs with --platform an image that is stored for
// another platform: --pull never rejects it, --pull missing pulls the
// requested platform, --pull always pulls it too.
func TestRunPlatformMismatch(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.pushIndex(t, "multi/arch:1", platformIndex(t))
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("multi/arch:1")
	host := "linux/" + runtime.GOARCH
	g.ok("pull", "-q", ref)

	stderr := g.fails(125, "run", "--rm", "--platform", "linux/arm64", "--pull", "never", ref, "true")
	for _, want := range []string{"is " + host, "not the requested linux/arm64", `"gocker pull --platform linux/arm64 ` + ref + `"`, "leave out --platform"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("run --pull never of another platform: %q, want %q", stderr, want)
		}
	}
	if got := g.inspect(t, ref); got.Architecture != runtime.GOARCH {
		t.Errorf("after run --pull never the image is %s, want %s", got.Architecture, runtime.GOARCH)
	}
	if out := g.ok("run", "--rm", "--platform", host, "--pull", "never", ref, "cat", "/etc/alpine-release"); out != "3.20.3\n" {
		t.Errorf("run --platform %s --pull never = %q", host, out)
	}

	// The arm64 image has no "true", so only the pull is checked.
	res := g.try("run", "--rm", "--platform", "linux/arm64", ref, "true")
	if !strings.Contains(res.stderr, "Unable to find image '"+ref+"' locally") || !strings.Contains(res.stderr, "Pull complete") {
		t.Errorf("run --platform linux/arm64 of the %s image: %s, want a pull", host, res)
	}
	if got := g.inspect(t, ref); got.Architecture != "arm64" {
		t.Errorf("after run --platform linux/arm64 the image is %s, want arm64", got.Architecture)
	}
	stderr = g.fails(125, "run", "--rm", "--platform", host, "--pull", "never", ref, "true")
	if !strings.Contains(stderr, "is linux/arm64, not the requested "+host) {
		t.Errorf("run --platform %s --pull never of the arm64 image: %q", host, stderr)
	}

	if out := g.ok("run", "--rm", "--platform", host, "--pull", "always", ref, "cat", "/etc/alpine-release"); out != "3.20.3\n" {
		t.Errorf("run --platform %s --pull always = %q", host, out)
	}
	if got := g.inspect(t, ref); got.Architecture != runtime.GOARCH {
		t.Errorf("after run --pull always the image is %s, want %s", got.Architecture, runtime.GOARCH)
	}
}

func TestPullStatusAfterUntag(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	small := imageOf(t, true, runtime.GOARCH, []string{"/x"}, layerOf(t, buildTar(t, []tarEntry{file("x", "x\n")}), "gzip"))
	reg.push(t, "small/img:1", small)
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("small/img:1")
	downloaded := "Status: Downloaded newer image for " + ref
	upToDate := "Status: Image is up to date for " + ref

	if out := g.ok("pull", ref); !strings.Contains(out, downloaded) {
		t.Errorf("first pull = %q, want %q", out, downloaded)
	}
	g.ok("tag", ref, "kept:1")
	g.ok("rmi", ref)
	out := g.ok("pull", ref)
	if !strings.Contains(out, downloaded) {
		t.Errorf("pull of a removed tag whose image is stored = %q, want %q", out, downloaded)
	}
	if strings.Contains(out, "up to date") {
		t.Errorf("pull of a removed tag whose image is stored = %q, want no \"up to date\"", out)
	}
	if out := g.ok("pull", ref); !strings.Contains(out, upToDate) {
		t.Errorf("pull of a stored tag = %q, want %q", out, upToDate)
	}

	digest, err := small.Digest()
	if err != nil {
		t.Fatal(err)
	}
	byDigest := reg.ref("small/img@") + digest.String()
	if out := g.ok("pull", byDigest); !strings.Contains(out, "Status: Image is up to date for "+byDigest) {
		t.Errorf("pull by the digest of a stored image = %q, want up to date", out)
	}
}

func TestPullHostileLayersLeaveNothing(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	g := newRootless(t)
	g.useRegistry(t, reg)
	base := layerOf(t, buildTar(t, []tarEntry{dir("etc/"), file("etc/base", "base\n")}), "gzip")
	cases := []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"dotdot", []tarEntry{file("../escape", "x")}, "leaves the layer directory"},
		{"symlink", []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "/tmp"}}, file("link/escaped", "x")}, "unsafe layer path"},
		{"overlay-xattr", []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d/", PAXRecords: map[string]string{"SCHILY.xattr.trusted.overlay.opaque": "y"}}}}, "overlay xattr"},
		{"unmapped-owner", []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "owned", Uid: 70000}}}, "outside the mapped range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := layerOf(t, buildTar(t, tc.entries), "gzip")
			reg.push(t, "hostile/"+tc.name+":1", imageOf(t, true, "amd64", []string{"/x"}, base, bad))
			stderr := g.fails(125, "pull", reg.ref("hostile/"+tc.name+":1"))
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("pull error %q, want %q", stderr, tc.want)
			}
			if out := g.ok("images", "-q"); out != "" {
				t.Errorf("images after a failed pull: %q", out)
			}
			if layers := g.storedLayers(t); len(layers) != 0 {
				t.Errorf("layers left after a failed pull: %v", layers)
			}
		})
	}
}

func TestPullWithLogin(t *testing.T) {
	reg := startRegistry(t, registryOptions{auth: true})
	reg.push(t, "private/alpine:1", multiLayerAlpine(t))
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("private/alpine:1")

	needsLogin := "pull " + ref + ": " + reg.host + ` requires authentication: run "gocker login ` + reg.host + `"`
	if stderr := g.fails(125, "pull", ref); !strings.Contains(stderr, needsLogin) {
		t.Errorf("pull without login: %q, want %q", stderr, needsLogin)
	}
	res := g.tryInput("wrong\n", "login", "-u", reg.user, "--password-stdin", reg.host)
	if res.code != 125 || !strings.Contains(res.stderr, "refused user") {
		t.Errorf("login with a wrong password: %s", res)
	}
	res = g.tryInput(reg.password+"\n", "login", "-u", reg.user, "--password-stdin", reg.host)
	if res.code != 0 || !strings.Contains(res.stdout, "Login Succeeded") {
		t.Fatalf("login: %s", res)
	}
	config := filepath.Join(filepath.Dir(g.root), "docker-config", "config.json")
	st, err := os.Stat(config)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %v, want 0600", st.Mode().Perm())
	}
	g.ok("pull", "-q", ref)
	if out := g.ok("run", "--rm", ref, "cat", "/layer4"); out != "fourth layer\n" {
		t.Errorf("run = %q", out)
	}
	if out := g.ok("logout", reg.host); !strings.Contains(out, "Removing login credentials") {
		t.Errorf("logout = %q", out)
	}
	needsLogin = "push " + ref + ": " + reg.host + ` requires authentication: run "gocker login ` + reg.host + `"`
	if stderr := g.fails(125, "push", ref); !strings.Contains(stderr, needsLogin) {
		t.Errorf("push without login: %q, want %q", stderr, needsLogin)
	}

	// Credentials stored with a wrong password.
	wrong := base64.StdEncoding.EncodeToString([]byte(reg.user + ":wrong"))
	writeFile(t, config, []byte(`{"auths":{"`+reg.host+`":{"auth":"`+wrong+`"}}}`))
	if err := os.Chown(config, g.acct.uid, g.acct.gid); err != nil {
		t.Fatal(err)
	}
	rejected := reg.host + ` rejected the stored credentials of user "` + reg.user + `": run "gocker login ` + reg.host + `"`
	if stderr := g.fails(125, "push", ref); !strings.Contains(stderr, "push "+ref+": "+rejected) {
		t.Errorf("push with a wrong stored password: %q, want %q", stderr, rejected)
	}
	g.ok("rmi", ref)
	if stderr := g.fails(125, "pull", ref); !strings.Contains(stderr, "pull "+ref+": "+rejected) {
		t.Errorf("pull with a wrong stored password: %q, want %q", stderr, rejected)
	}
}

func TestPullConcurrentSameImage(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, "alpine/multi:1", multiLayerAlpine(t))
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("alpine/multi:1")

	a := startGocker(t, g, "pull", ref)
	b := startGocker(t, g, "pull", ref)
	for _, e := range []*execution{a, b} {
		if code := e.exitCode(t); code != 0 {
			t.Errorf("concurrent pull exit %d: %s", code, e.stderr.String())
		}
	}
	if n := len(g.storedLayers(t)); n != 4 {
		t.Errorf("%d layer directories after two pulls, want 4: %v", n, g.storedLayers(t))
	}
	if out := g.ok("run", "--rm", ref, "cat", "/layer4"); out != "fourth layer\n" {
		t.Errorf("run = %q", out)
	}
}

func TestPullKilledIsCompletedByNextPull(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	g := newRootless(t)
	g.useRegistry(t, reg)
	// The Debian image is large enough to be killed mid-download.
	path := debianTarball()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs the Debian tarball at %s: %v", path, err)
	}
	layer := layerFromFile(t, path)
	reg.push(t, "debian:bookworm", imageOf(t, true, "amd64", []string{"bash"}, layer))
	ref := reg.ref("debian:bookworm")

	e := startGocker(t, g, "pull", ref)
	deadline := time.Now().Add(time.Minute)
	for !tempLayerExists(g) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := e.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.exitCode(t)
	if out := g.ok("images", "-q"); out != "" {
		t.Errorf("a killed pull listed an image: %q", out)
	}
	g.fails(125, "run", "--rm", "--pull", "never", ref, "true")
	g.ok("pull", "-q", ref)
	if out := g.ok("run", "--rm", ref, "cat", "/etc/debian_version"); !strings.HasPrefix(out, "12") {
		t.Errorf("run after the completed pull = %q", out)
	}
}

// tempLayerExists reports whether a pull is extracting a layer.
func tempLayerExists(g *gocker) bool {
	entries, _ := os.ReadDir(filepath.Join(g.root, "layers"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			return true
		}
	}
	return false
}

func TestPullBrokenConnection(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, "alpine/multi:1", multiLayerAlpine(t))
	g := newRootless(t)
	g.useRegistry(t, reg)
	proxy := cuttingProxy(t, reg.host, 600<<10)
	reg.trust(t, g, proxy)

	stderr := g.fails(125, "pull", proxy+"/alpine/multi:1")
	if !strings.Contains(stderr, "EOF") && !strings.Contains(stderr, "interrupted") {
		t.Errorf("pull over a broken connection: %q, want the cause", stderr)
	}
	if out := g.ok("images", "-q"); out != "" {
		t.Errorf("images after a broken pull: %q", out)
	}
}

func TestPullFullDisk(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, "alpine/multi:1", multiLayerAlpine(t))
	g := newRootful(t)
	g.useRegistry(t, reg)
	requireBinary(t, "unshare")
	small := filepath.Join(filepath.Dir(g.root), "small")
	if err := os.Mkdir(small, 0o700); err != nil {
		t.Fatal(err)
	}
	// A 2 MiB tmpfs in a private mount namespace holds less than the
	// image; the host's mounts are not touched.
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size=2m tmpfs "$1" && exec "$2" --root "$1/store" pull "$3"`, "sh", small, env.binary, reg.ref("alpine/multi:1"))
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}, g.env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("pull into a full store succeeded: %s", out)
	}
	if !strings.Contains(string(out), "no space left on device") || !strings.Contains(string(out), "free space") {
		t.Errorf("pull into a full store: %s", out)
	}
}

func TestPullAsRoot(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, "alpine/multi:1", multiLayerAlpine(t))
	g := newRootful(t)
	g.useRegistry(t, reg)
	ref := reg.ref("alpine/multi:1")
	// The registry listens on the host's loopback, which root's commands
	// in the test's network namespace cannot reach; the pull alone runs
	// in the host's namespace and opens connections to loopback only.
	hostNet := *g
	hostNet.netns = ""
	hostNet.ok("pull", "-q", ref)
	if out := g.ok("run", "--rm", "--network", "none", ref, "sh", "-c", "ls /etc/apk; stat -c %u:%g /etc/shadow"); out != "only\n0:42\n" {
		t.Errorf("run as root = %q", out)
	}
}

func TestRunPullsMissingImage(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	reg.push(t, "alpine/multi:1", multiLayerAlpine(t))
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("alpine/multi:1")
	res := g.try("run", "--rm", ref, "cat", "/layer4")
	if res.code != 0 || res.stdout != "fourth layer\n" {
		t.Fatalf("run of a missing image: %s", res)
	}
	if !strings.Contains(res.stderr, "Unable to find image '"+ref+"' locally") || !strings.Contains(res.stderr, "Pull complete") {
		t.Errorf("run stderr = %q, want Docker's messages", res.stderr)
	}
	if stderr := g.fails(125, "run", "--pull", "sometimes", ref, "true"); !strings.Contains(stderr, "missing, always or never") {
		t.Errorf("bad --pull: %q", stderr)
	}
}

func TestPullDebianImage(t *testing.T) {
	path := debianTarball()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs the Debian tarball at %s: %v", path, err)
	}
	reg := startRegistry(t, registryOptions{})
	reg.push(t, "debian:bookworm", imageOf(t, false, "amd64", []string{"bash"}, layerFromFile(t, path)))
	g := newRootless(t)
	g.useRegistry(t, reg)
	g.ok("pull", "-q", reg.ref("debian:bookworm"))
	if out := g.ok("run", "--rm", reg.ref("debian:bookworm"), "sh", "-c", "cat /etc/debian_version; stat -c %U /usr/bin"); !strings.HasPrefix(out, "12") || !strings.HasSuffix(out, "root\n") {
		t.Errorf("run = %q", out)
	}
}

// TestLoginCredentialHelper stores the credentials in Debian's
// docker-credential-pass, which keeps them in a password store encrypted
// with a GnuPG key made for the test, as a config with "credsStore" requests.
func TestLoginCredentialHelper(t *testing.T) {
	requireBinary(t, "docker-credential-pass")
	requireBinary(t, "pass")
	gpg := requireBinary(t, "gpg")
	reg := startRegistry(t, registryOptions{auth: true})
	reg.push(t, "private/alpine:1", multiLayerAlpine(t))
	g := newRootless(t)
	g.useRegistry(t, reg)
	ref := reg.ref("private/alpine:1")

	// The agent's socket lives in GNUPGHOME, whose path must fit a
	// socket address, so it is short.
	home, err := os.MkdirTemp("/tmp", "gpg-")
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(home, "store")
	g.env = append(g.env, "GNUPGHOME="+filepath.Join(home, "gnupg"), "PASSWORD_STORE_DIR="+store)
	asUser := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + g.acct.home}, g.env...)
		cmd.SysProcAttr = g.acct.sysProcAttr()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if err := os.Chown(home, g.acct.uid, g.acct.gid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// gpgconf ends the agent that gpg started through its socket.
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, g.env...)
		cmd.SysProcAttr = g.acct.sysProcAttr()
		_ = cmd.Run()
		os.RemoveAll(home)
	})
	asUser("mkdir", "-m", "0700", filepath.Join(home, "gnupg"))
	asUser(gpg, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
		"--quick-generate-key", "gocker test <test@gocker.invalid>", "future-default", "default", "never")
	asUser("pass", "init", "test@gocker.invalid")

	config := filepath.Join(filepath.Dir(g.root), "docker-config", "config.json")
	writeFile(t, config, []byte(`{"credsStore":"pass"}`))
	if err := os.Chown(config, g.acct.uid, g.acct.gid); err != nil {
		t.Fatal(err)
	}
	res := g.tryInput(reg.password+"\n", "login", "-u", reg.user, "--password-stdin", reg.host)
	if res.code != 0 || !strings.Contains(res.stdout, "Login Succeeded") {
		t.Fatalf("login: %s", res)
	}
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), reg.password) || strings.Contains(string(data), `"auth"`) {
		t.Errorf("config.json contains the credentials that the helper keeps: %s", data)
	}
	if got := asUser("docker-credential-pass", "list"); !strings.Contains(got, reg.host) {
		t.Errorf("docker-credential-pass list = %q, want an entry for %s", got, reg.host)
	}
	g.ok("pull", "-q", ref)
	if out := g.ok("run", "--rm", ref, "cat", "/layer4"); out != "fourth layer\n" {
		t.Errorf("run = %q", out)
	}
	if out := g.ok("logout", reg.host); !strings.Contains(out, "Removing login credentials") {
		t.Errorf("logout = %q", out)
	}
	if got := asUser("docker-credential-pass", "list"); strings.Contains(got, reg.host) {
		t.Errorf("docker-credential-pass list after logout = %q, still contains %s", got, reg.host)
	}
	g.ok("rmi", ref)
	g.fails(125, "pull", ref)

	writeFile(t, config, []byte(`{"credHelpers":{"`+reg.host+`":"gocker-absent"}}`))
	stderr := g.fails(125, "pull", ref)
	if !strings.Contains(stderr, "docker-credential-gocker-absent") || !strings.Contains(stderr, `remove "credHelpers"`) {
		t.Errorf("pull with a missing helper: %q, want the program and the fix", stderr)
	}
}

// TestPullRejectsWrongDigests serves a layer blob whose content does not
// match its digest, and an image whose config announces a wrong diff id:
// each pull fails and stores nothing.
func TestPullRejectsWrongDigests(t *testing.T) {
	reg := startRegistry(t, registryOptions{})
	g := newRootless(t)
	g.useRegistry(t, reg)
	base := layerOf(t, buildTar(t, []tarEntry{dir("etc/"), file("etc/base", "base\n")}), "gzip")
	top := layerOf(t, buildTar(t, []tarEntry{file("top", "top\n")}), "gzip")
	other := layerOf(t, buildTar(t, []tarEntry{file("other", "other\n")}), "gzip")

	// The registry keeps blobs as files named by their digest. Changing
	// the modification time in the gzip header (bytes 4 to 7) keeps the
	// blob's size and its uncompressed content, so only the digest check
	// detects the change.
	reg.push(t, "wrong/blob:1", imageOf(t, true, runtime.GOARCH, []string{"/x"}, base, top))
	digest, err := top.Digest()
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(reg.dir, "data", "docker", "registry", "v2", "blobs", "sha256", digest.Hex[:2], digest.Hex, "data")
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatalf("blob of the pushed layer: %v", err)
	}
	data[4] ^= 0xff
	writeFile(t, blob, data)

	diffIDImage := imageOf(t, true, runtime.GOARCH, []string{"/x"}, base, other)
	cfg, err := diffIDImage.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	wrongDiffID, err := top.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RootFS.DiffIDs[1] = wrongDiffID
	diffIDImage, err = mutate.ConfigFile(diffIDImage, cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg.push(t, "wrong/diffid:1", diffIDImage)

	cases := []struct{ ref, want string }{
		{"wrong/blob:1", digest.String()},
		{"wrong/diffid:1", "uncompresses to"},
	}
	for _, tc := range cases {
		stderr := g.fails(125, "pull", reg.ref(tc.ref))
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("pull %s: error %q, want %q", tc.ref, stderr, tc.want)
		}
		if out := g.ok("images", "-q"); out != "" {
			t.Errorf("images after pull %s failed: %q", tc.ref, out)
		}
		if layers := g.storedLayers(t); len(layers) != 0 {
			t.Errorf("layers left after pull %s failed: %v", tc.ref, layers)
		}
	}
}
