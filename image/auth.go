package image

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/google/go-containerregistry/pkg/authn"
)

// dockerHubAuthKey is the key under which Docker keeps Docker Hub's
// credentials in its config file.
const dockerHubAuthKey = "https://index.docker.io/v1/"

// DockerConfig is Docker's client config file (config.json), of which
// gocker reads and writes the "auths" section and keeps everything else.
//
// A registry named in "credHelpers", or every registry when "credsStore"
// is set, keeps its credentials in a credential helper, the program
// docker-credential-NAME, as Docker does: gocker gets them from it, login
// stores them there and leaves an empty entry in "auths", and logout
// erases them.
type DockerConfig struct {
	path        string
	other       map[string]json.RawMessage
	auths       map[string]dockerAuth
	credsStore  string
	credHelpers map[string]string
}

type dockerAuth struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// DockerConfigPath returns the config file that Docker reads:
// $DOCKER_CONFIG/config.json, or ~/.docker/config.json.
func DockerConfigPath() (string, error) {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the Docker config file: %w: set $HOME or $DOCKER_CONFIG", err)
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

// LoadDockerConfig reads the config file at path; a missing file is an
// empty config.
func LoadDockerConfig(path string) (*DockerConfig, error) {
	c := &DockerConfig{path: path, other: map[string]json.RawMessage{}, auths: map[string]dockerAuth{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &c.other); err != nil {
		return nil, fmt.Errorf("decode Docker config %s: %w", path, err)
	}
	for key, dst := range map[string]any{"auths": &c.auths, "credsStore": &c.credsStore, "credHelpers": &c.credHelpers} {
		if raw, ok := c.other[key]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return nil, fmt.Errorf("decode %q of Docker config %s: %w", key, path, err)
			}
		}
	}
	return c, nil
}

// helper returns the credential helper that keeps the credentials of
// registry, and the config key that names it; "" when the file keeps
// them.
func (c *DockerConfig) helper(registry string) (name, key string) {
	for _, host := range helperHosts(registry) {
		if h := c.credHelpers[host]; h != "" {
			return h, "credHelpers"
		}
	}
	if c.credsStore != "" {
		return c.credsStore, "credsStore"
	}
	return "", ""
}

// helperHosts returns the keys under which "credHelpers" may name the
// helper of registry.
func helperHosts(registry string) []string {
	if isDockerHub(registry) {
		return []string{"index.docker.io", dockerHub, "registry-1.docker.io"}
	}
	return []string{registry}
}

func isDockerHub(registry string) bool {
	return registry == dockerHub || registry == "index.docker.io" || registry == "registry-1.docker.io"
}

// helperProgram returns how to run the credential helper name, or an
// error naming the missing program and the fix.
func (c *DockerConfig) helperProgram(name, key string) (client.ProgramFunc, error) {
	program := "docker-credential-" + name
	path, err := exec.LookPath(program)
	if err != nil {
		return nil, fmt.Errorf("%q in %s names the credential helper %s, which is not in $PATH: install it, or remove %q from the file",
			key, c.path, program, key)
	}
	return client.NewShellProgramFunc(path), nil
}

// authKeys returns the keys under which a registry's credentials may be
// stored, the preferred one first.
func authKeys(registry string) []string {
	if isDockerHub(registry) {
		return []string{dockerHubAuthKey, "index.docker.io", dockerHub}
	}
	return []string{registry, "https://" + registry, "http://" + registry}
}

// Resolve implements [authn.Keychain]. A registry whose helper does not
// know it falls back to the file's "auths", as with Docker.
func (c *DockerConfig) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if name, key := c.helper(r.RegistryStr()); name != "" {
		program, err := c.helperProgram(name, key)
		if err != nil {
			return nil, err
		}
		creds, err := client.Get(program, authKeys(r.RegistryStr())[0])
		switch {
		case err == nil && creds.Username == identityTokenUser:
			return authn.FromConfig(authn.AuthConfig{IdentityToken: creds.Secret}), nil
		case err == nil:
			return authn.FromConfig(authn.AuthConfig{Username: creds.Username, Password: creds.Secret}), nil
		case !credentials.IsErrCredentialsNotFound(err):
			return nil, fmt.Errorf("get the credentials of %s from docker-credential-%s: %w", r.RegistryStr(), name, err)
		}
	}
	for _, key := range authKeys(r.RegistryStr()) {
		a, ok := c.auths[key]
		if !ok {
			continue
		}
		cfg := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}
		if a.Auth != "" {
			user, pass, err := decodeAuth(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("credentials of %s in %s: %w", key, c.path, err)
			}
			cfg.Username, cfg.Password = user, pass
		}
		return authn.FromConfig(cfg), nil
	}
	return authn.Anonymous, nil
}

var _ authn.Keychain = (*DockerConfig)(nil)

func decodeAuth(auth string) (string, string, error) {
	data, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		return "", "", fmt.Errorf("decode \"auth\": %w", err)
	}
	user, pass, ok := strings.Cut(string(data), ":")
	if !ok {
		return "", "", errors.New("\"auth\" is not base64 of USER:PASSWORD")
	}
	return user, pass, nil
}

// identityTokenUser is the user name with which credential helpers keep
// an identity token instead of a password.
const identityTokenUser = "<token>"

// SetAuth records the credentials of registry: in its credential helper,
// with an empty entry in the file as Docker leaves, or in the file.
func (c *DockerConfig) SetAuth(registry, user, password string) error {
	for _, key := range authKeys(registry) {
		delete(c.auths, key)
	}
	entry := dockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	if name, key := c.helper(registry); name != "" {
		program, err := c.helperProgram(name, key)
		if err != nil {
			return err
		}
		creds := &credentials.Credentials{ServerURL: authKeys(registry)[0], Username: user, Secret: password}
		if err := client.Store(program, creds); err != nil {
			return fmt.Errorf("store the credentials of %s with docker-credential-%s: %w", registry, name, err)
		}
		entry = dockerAuth{}
	}
	c.auths[authKeys(registry)[0]] = entry
	return nil
}

// RemoveAuth removes the credentials of registry, in the file and in its
// credential helper, and reports whether it had any.
func (c *DockerConfig) RemoveAuth(registry string) (bool, error) {
	found := false
	for _, key := range authKeys(registry) {
		if _, ok := c.auths[key]; ok {
			delete(c.auths, key)
			found = true
		}
	}
	name, key := c.helper(registry)
	if name == "" {
		return found, nil
	}
	program, err := c.helperProgram(name, key)
	if err != nil {
		return found, err
	}
	serverURL := authKeys(registry)[0]
	if _, err := client.Get(program, serverURL); credentials.IsErrCredentialsNotFound(err) {
		return found, nil
	}
	if err := client.Erase(program, serverURL); err != nil {
		return found, fmt.Errorf("erase the credentials of %s with docker-credential-%s: %w", registry, name, err)
	}
	return true, nil
}

// Save writes the config file with mode 0600, creating its directory.
func (c *DockerConfig) Save() error {
	raw, err := json.Marshal(c.auths)
	if err != nil {
		return err
	}
	c.other["auths"] = raw
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("create the directory of %s: %w", c.path, err)
	}
	return atomicfile.WriteJSON(c.path, c.other, 0o600)
}

// Path returns the config file's path.
func (c *DockerConfig) Path() string { return c.path }
