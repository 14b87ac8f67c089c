package image

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/google/go-containerregistry/pkg/authn"
)

// dockerHubAuthKey is the key under which Docker keeps Docker Hub's
// credentials in its config file.
const dockerHubAuthKey = "https://index.docker.io/v1/"

// DockerConfig is Docker's client config file (config.json), of which
// gocker reads and writes the "auths" section and keeps everything else.
//
// NOTE: credential helpers ("credsStore", "credHelpers") are not run;
// credentials kept by one are not found, and login writes to the file.
type DockerConfig struct {
	path  string
	other map[string]json.RawMessage
	auths map[string]dockerAuth
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
	if raw, ok := c.other["auths"]; ok {
		if err := json.Unmarshal(raw, &c.auths); err != nil {
			return nil, fmt.Errorf("decode \"auths\" of Docker config %s: %w", path, err)
		}
	}
	return c, nil
}

// authKeys returns the keys under which a registry's credentials may be
// stored, the preferred one first.
func authKeys(registry string) []string {
	if registry == dockerHub || registry == "index.docker.io" || registry == "registry-1.docker.io" {
		return []string{dockerHubAuthKey, "index.docker.io", dockerHub}
	}
	return []string{registry, "https://" + registry, "http://" + registry}
}

// Resolve implements [authn.Keychain].
func (c *DockerConfig) Resolve(r authn.Resource) (authn.Authenticator, error) {
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

// SetAuth records the credentials of registry.
func (c *DockerConfig) SetAuth(registry, user, password string) {
	for _, key := range authKeys(registry) {
		delete(c.auths, key)
	}
	c.auths[authKeys(registry)[0]] = dockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
}

// RemoveAuth forgets the credentials of registry and reports whether it
// had any.
func (c *DockerConfig) RemoveAuth(registry string) bool {
	found := false
	for _, key := range authKeys(registry) {
		if _, ok := c.auths[key]; ok {
			delete(c.auths, key)
			found = true
		}
	}
	return found
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
