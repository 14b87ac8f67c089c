//go:build integration

package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

// registryBinary is where scripts/test-setup.sh builds the CNCF
// distribution registry; GOCKER_TEST_REGISTRY overrides it.
func registryBinary() string {
	if p := os.Getenv("GOCKER_TEST_REGISTRY"); p != "" {
		return p
	}
	return "/var/cache/gocker-test/bin/registry"
}

// registry is a distribution registry serving TLS on 127.0.0.1 with a CA
// generated for the test.
type registry struct {
	host     string // 127.0.0.1:PORT
	caPEM    []byte
	user     string // basic auth user; "" when open
	password string
	cmd      *exec.Cmd
	dir      string
}

// registryOptions configure [startRegistry].
type registryOptions struct {
	auth bool // require basic auth (htpasswd, bcrypt)
}

var testCA struct {
	once sync.Once
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	err  error
}

// caAuthority returns the test CA, made once per test binary.
func caAuthority(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	testCA.once.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			testCA.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "gocker test CA"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			testCA.err = err
			return
		}
		testCA.cert, _ = x509.ParseCertificate(der)
		testCA.key = key
		testCA.pem = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	})
	if testCA.err != nil {
		t.Fatal(testCA.err)
	}
	return testCA.cert, testCA.key, testCA.pem
}

// serverCertificate writes a certificate for 127.0.0.1 signed by the test
// CA and its key to dir, and returns their paths.
func serverCertificate(t *testing.T, dir string) (string, string) {
	t.Helper()
	ca, caKey, _ := caAuthority(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	writeFile(t, certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certPath, keyPath
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry runs the distribution registry on a free port of
// 127.0.0.1 until the test ends.
func startRegistry(t *testing.T, opts registryOptions) *registry {
	t.Helper()
	bin := registryBinary()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("needs the distribution registry at %s (built by scripts/test-setup.sh): %v", bin, err)
	}
	dir := t.TempDir()
	certPath, keyPath := serverCertificate(t, dir)
	_, _, caPEM := caAuthority(t)
	r := &registry{host: fmt.Sprintf("127.0.0.1:%d", freePort(t)), caPEM: caPEM, dir: dir}
	auth := ""
	if opts.auth {
		r.user, r.password = "tester", "s3cret-pass"
		hash, err := bcrypt.GenerateFromPassword([]byte(r.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "htpasswd"), []byte(r.user+":"+string(hash)+"\n"))
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: gocker-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  tls:
    certificate: %s
    key: %s
%s`, filepath.Join(dir, "data"), r.host, certPath, keyPath, auth)
	writeFile(t, filepath.Join(dir, "config.yml"), []byte(config))
	r.cmd = exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	r.cmd.Env = []string{"PATH=/usr/bin:/bin", "OTEL_TRACES_EXPORTER=none"}
	logFile, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.stop()
		logFile.Close()
	})
	r.waitReady(t)
	return r
}

// stop kills the registry by its pid and waits for it.
func (r *registry) stop() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

func (r *registry) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Transport: r.transport(), Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get("https://" + r.host + "/v2/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(r.dir, "registry.log"))
	t.Fatalf("registry on %s did not answer within 30 s:\n%s", r.host, log)
}

// transport trusts the test CA.
func (r *registry) transport() http.RoundTripper {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.caPEM)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t
}

// remoteOptions are go-containerregistry's options for pushing fixtures.
func (r *registry) remoteOptions() []remote.Option {
	opts := []remote.Option{remote.WithTransport(r.transport())}
	if r.user != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: r.user, Password: r.password}))
	}
	return opts
}

// ref returns the reference of repository:tag on this registry.
func (r *registry) ref(repoTag string) string { return r.host + "/" + repoTag }

// push uploads a fixture image.
func (r *registry) push(t *testing.T, repoTag string, img v1.Image) {
	t.Helper()
	ref, err := name.ParseReference(r.ref(repoTag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, r.remoteOptions()...); err != nil {
		t.Fatalf("push fixture %s: %v", ref, err)
	}
}

// pushIndex uploads a fixture index.
func (r *registry) pushIndex(t *testing.T, repoTag string, idx v1.ImageIndex) {
	t.Helper()
	ref, err := name.ParseReference(r.ref(repoTag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, r.remoteOptions()...); err != nil {
		t.Fatalf("push fixture %s: %v", ref, err)
	}
}

// trust installs the registry's CA for g's user in
// ~/.config/gocker/certs.d/HOST:PORT/ca.crt, where gocker looks for it.
func (r *registry) trust(t *testing.T, g *gocker, host string) {
	t.Helper()
	home := "/root"
	if g.acct != nil {
		home = g.acct.home
	}
	dir := filepath.Join(home, ".config", "gocker", "certs.d", host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ca.crt"), r.caPEM)
	if g.acct != nil {
		for p := dir; strings.HasPrefix(p, home+"/"); p = filepath.Dir(p) {
			_ = os.Chown(p, g.acct.uid, g.acct.gid)
		}
		_ = os.Chown(filepath.Join(dir, "ca.crt"), g.acct.uid, g.acct.gid)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
}

// useRegistry trusts r for g and gives g a Docker config directory of its
// own, so that logins of parallel tests do not meet.
func (g *gocker) useRegistry(t *testing.T, r *registry) {
	t.Helper()
	r.trust(t, g, r.host)
	dir := filepath.Join(filepath.Dir(g.root), "docker-config")
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		t.Fatal(err)
	}
	if g.acct != nil {
		if err := os.Chown(dir, g.acct.uid, g.acct.gid); err != nil {
			t.Fatal(err)
		}
	}
	g.env = append(g.env, "DOCKER_CONFIG="+dir)
}

// cuttingProxy forwards TCP connections to target and closes each after
// limit bytes from the target, as a broken connection would.
func cuttingProxy(t *testing.T, target string, limit int64) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		l.Close()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := (&net.Dialer{}).DialContext(ctx, "tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.CopyN(c, up, limit)
			}()
		}
	}()
	return l.Addr().String()
}
