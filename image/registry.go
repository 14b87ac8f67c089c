package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrInsecureRegistry means a registry answered, or would have to be
// reached, over plain HTTP without being allowed to.
var ErrInsecureRegistry = errors.New("plain HTTP not allowed")

// RegistryOptions configures how gocker talks to registries.
type RegistryOptions struct {
	// Insecure lists registries ("HOST" or "HOST:PORT") that may be
	// reached over plain HTTP. Loopback registries (localhost,
	// 127.0.0.0/8, ::1) always may.
	Insecure []string
	// CertsDirs are directories with a subdirectory per registry
	// ("HOST:PORT" or "HOST") whose *.crt files are CA certificates
	// trusted for that registry, besides the system's.
	CertsDirs []string
	// Keychain finds credentials; nil means anonymous access.
	Keychain authn.Keychain
	// UserAgent is sent with every request.
	UserAgent string
}

// isInsecure reports whether registry may be reached over plain HTTP.
func (o RegistryOptions) isInsecure(registry string) bool {
	if isLoopback(registry) {
		return true
	}
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	return slices.Contains(o.Insecure, registry) || slices.Contains(o.Insecure, host)
}

// isLoopback reports whether a registry "HOST[:PORT]" is on this machine.
func isLoopback(registry string) bool {
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// nameReference returns the go-containerregistry reference of ref,
// marked insecure when plain HTTP is allowed for its registry.
func (o RegistryOptions) nameReference(ref Reference) (name.Reference, error) {
	var opts []name.Option
	if o.isInsecure(ref.ref.Context().RegistryStr()) {
		opts = append(opts, name.Insecure)
	}
	return name.ParseReference(ref.ref.Name(), opts...)
}

// remoteOptions returns the options of go-containerregistry's remote
// package for reg.
func (o RegistryOptions) remoteOptions(ctx context.Context, reg name.Registry) ([]remote.Option, error) {
	t, err := o.transport(reg.RegistryStr())
	if err != nil {
		return nil, err
	}
	keychain := o.Keychain
	if keychain == nil {
		keychain = authn.NewMultiKeychain()
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(t),
		remote.WithAuthFromKeychain(keychain),
	}
	if o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(o.UserAgent))
	}
	return opts, nil
}

// transport returns the HTTP transport for registry: the system's CA
// certificates plus those of the registry's certs.d directory, and plain
// HTTP refused unless allowed. go-containerregistry falls back to HTTP for
// private (RFC 1918) addresses on its own, which the guard overrides.
func (o RegistryOptions) transport(registry string) (http.RoundTripper, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	pool, err := o.certPool(registry)
	if err != nil {
		return nil, err
	}
	if pool != nil {
		base.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &schemeGuard{next: base, insecure: o.isInsecure(registry), registry: registry}, nil
}

// certPool returns the system pool with the registry's extra CA
// certificates, or nil when it has none.
func (o RegistryOptions) certPool(registry string) (*x509.CertPool, error) {
	var files []string
	for _, dir := range o.CertsDirs {
		matches, _ := filepath.Glob(filepath.Join(dir, registry, "*.crt"))
		files = append(files, matches...)
	}
	if len(files) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA certificate of registry %s: %w", registry, err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("CA certificate %s of registry %s: no PEM certificate in the file", f, registry)
		}
	}
	return pool, nil
}

// schemeGuard refuses plain HTTP requests to a registry that is not
// allowed to use it, including redirects and token servers.
type schemeGuard struct {
	next     http.RoundTripper
	insecure bool
	registry string
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.insecure && !isLoopback(req.URL.Host) {
		return nil, fmt.Errorf("%w for %s (registry %s): pass --insecure-registry %s if it serves no HTTPS",
			ErrInsecureRegistry, req.URL.Redacted(), g.registry, g.registry)
	}
	return g.next.RoundTrip(req)
}

var _ http.RoundTripper = (*schemeGuard)(nil)

// authError is a registry's 401 Unauthorized response, with the command
// that fixes it.
type authError struct {
	registry string // HOST[:PORT], or name.DefaultRegistry for Docker Hub
	stored   bool   // gocker sent credentials from Docker's config file
	user     string // user name of those credentials; "" for an identity token
	err      *transport.Error
}

func (e *authError) Error() string {
	host, login := e.registry, "gocker login "+e.registry
	if e.registry == name.DefaultRegistry {
		host, login = "Docker Hub", "gocker login"
	}
	if !e.stored {
		return fmt.Sprintf("%s requires authentication: run %q", host, login)
	}
	creds := "the stored credentials"
	if e.user != "" {
		creds = fmt.Sprintf("the stored credentials of user %q", e.user)
	}
	return fmt.Sprintf("%s rejected %s: run %q with valid ones", host, creds, login)
}

func (e *authError) Unwrap() error { return e.err }

// explainAuthError replaces a 401 Unauthorized response of reg, found as
// a *transport.Error in err's chain, by an [authError] that states whether
// credentials were sent and how to log in. Other errors are returned as
// they are.
func (o RegistryOptions) explainAuthError(err error, reg name.Registry) error {
	var terr *transport.Error
	if !errors.As(err, &terr) || !isUnauthorized(terr) {
		return err
	}
	aerr := &authError{registry: reg.RegistryStr(), err: terr}
	if o.Keychain == nil {
		return aerr
	}
	auth, kerr := o.Keychain.Resolve(reg)
	if kerr != nil || auth == authn.Anonymous {
		return aerr
	}
	aerr.stored = true
	if cfg, cerr := auth.Authorization(); cerr == nil {
		aerr.user = cfg.Username
	}
	return aerr
}

// isUnauthorized reports whether a registry responded 401 Unauthorized,
// or sent the UNAUTHORIZED error code of the distribution API.
func isUnauthorized(terr *transport.Error) bool {
	if terr.StatusCode == http.StatusUnauthorized {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.UnauthorizedErrorCode {
			return true
		}
	}
	return false
}
