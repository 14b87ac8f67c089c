package image

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestIsInsecure(t *testing.T) {
	opts := RegistryOptions{Insecure: []string{"build.internal:5000", "plain.example"}}
	tests := []struct {
		registry string
		want     bool
	}{
		{"localhost:5000", true},
		{"127.0.0.1:5000", true},
		{"127.1.2.3", true},
		{"[::1]:5000", true},
		{"build.internal:5000", true},
		{"build.internal:5001", false},
		{"plain.example:8080", true},
		{"10.0.0.5:5000", false},
		{"192.168.1.2", false},
		{"ghcr.io", false},
	}
	for _, tc := range tests {
		t.Run(tc.registry, func(t *testing.T) {
			if got := opts.isInsecure(tc.registry); got != tc.want {
				t.Errorf("isInsecure(%q) = %v, want %v", tc.registry, got, tc.want)
			}
		})
	}
}

func TestSchemeGuardRefusesPlainHTTP(t *testing.T) {
	g := &schemeGuard{next: http.DefaultTransport, registry: "10.0.0.5:5000"}
	req, err := http.NewRequest(http.MethodGet, "http://10.0.0.5:5000/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.RoundTrip(req)
	if !errors.Is(err, ErrInsecureRegistry) {
		t.Errorf("RoundTrip error = %v, want ErrInsecureRegistry", err)
	}
}

func TestDockerConfigRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"currentContext":"default","auths":{"other.example":{"auth":"dTpw"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadDockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][3]string{{"docker.io", "hub", "secret"}, {"reg.example:5000", "alice", "pw:with:colons"}} {
		if err := cfg.SetAuth(set[0], set[1], set[2]); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	again, err := LoadDockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.other["currentContext"]; !ok {
		t.Error("Save dropped the currentContext key")
	}
	tests := []struct {
		registry, user, password string
	}{
		{name.DefaultRegistry, "hub", "secret"},
		{"reg.example:5000", "alice", "pw:with:colons"},
		{"other.example", "u", "p"},
	}
	for _, tc := range tests {
		reg, err := name.NewRegistry(tc.registry)
		if err != nil {
			t.Fatal(err)
		}
		auth, err := again.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := auth.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != tc.user || got.Password != tc.password {
			t.Errorf("%s: credentials %q/%q, want %q/%q", tc.registry, got.Username, got.Password, tc.user, tc.password)
		}
	}
	first, err1 := again.RemoveAuth("reg.example:5000")
	second, err2 := again.RemoveAuth("reg.example:5000")
	if !first || second || err1 != nil || err2 != nil {
		t.Errorf("RemoveAuth twice = %v (%v), %v (%v), want true, then false", first, err1, second, err2)
	}
	reg, _ := name.NewRegistry("nowhere.example")
	if auth, _ := again.Resolve(reg); auth != authn.Anonymous {
		t.Errorf("unknown registry resolved to %v, want anonymous", auth)
	}
}

func TestDockerConfigMissingHelper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	config := `{"credsStore":"gocker-absent","credHelpers":{"reg.example":"gocker-absent-too"}}`
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadDockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ registry, program, key string }{
		{"reg.example", "docker-credential-gocker-absent-too", "credHelpers"},
		{"other.example", "docker-credential-gocker-absent", "credsStore"},
	}
	for _, tc := range tests {
		reg, err := name.NewRegistry(tc.registry)
		if err != nil {
			t.Fatal(err)
		}
		_, resolveErr := cfg.Resolve(reg)
		setErr := cfg.SetAuth(tc.registry, "u", "p")
		_, removeErr := cfg.RemoveAuth(tc.registry)
		for _, err := range []error{resolveErr, setErr, removeErr} {
			if err == nil || !strings.Contains(err.Error(), tc.program) || !strings.Contains(err.Error(), `remove "`+tc.key+`"`) {
				t.Errorf("%s: error %v, want one naming %s and the %s key", tc.registry, err, tc.program, tc.key)
			}
		}
	}
}

// staticKeychain resolves every registry to one authenticator.
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

func TestExplainAuthError(t *testing.T) {
	reg, err := name.NewRegistry("127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	headUnauthorized := &transport.Error{StatusCode: http.StatusUnauthorized, Request: &http.Request{Method: http.MethodHead}}
	diagnostic := &transport.Error{StatusCode: http.StatusBadRequest, Errors: []transport.Diagnostic{{Code: transport.UnauthorizedErrorCode, Message: "authentication required"}}}
	notFound := &transport.Error{StatusCode: http.StatusNotFound, Errors: []transport.Diagnostic{{Code: transport.ManifestUnknownErrorCode}}}
	password := authn.FromConfig(authn.AuthConfig{Username: "tester", Password: "wrong"})
	tests := []struct {
		name     string
		err      error
		keychain authn.Keychain
		want     string
	}{
		{"anonymous 401", fmt.Errorf("layer x: %w", headUnauthorized), staticKeychain{authn.Anonymous}, `127.0.0.1:5000 requires authentication: run "gocker login 127.0.0.1:5000"`},
		{"no keychain", headUnauthorized, nil, `127.0.0.1:5000 requires authentication: run "gocker login 127.0.0.1:5000"`},
		{"diagnostic code", diagnostic, staticKeychain{authn.Anonymous}, `127.0.0.1:5000 requires authentication`},
		{"stored credentials", headUnauthorized, staticKeychain{password}, `127.0.0.1:5000 rejected the stored credentials of user "tester": run "gocker login 127.0.0.1:5000"`},
		{"not found", notFound, staticKeychain{authn.Anonymous}, notFound.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RegistryOptions{Keychain: tc.keychain}.explainAuthError(tc.err, reg)
			if !strings.Contains(got.Error(), tc.want) {
				t.Errorf("explainAuthError = %q, want %q", got, tc.want)
			}
			var terr *transport.Error
			if !errors.As(got, &terr) {
				t.Errorf("explainAuthError = %q, lost the *transport.Error", got)
			}
		})
	}
}
