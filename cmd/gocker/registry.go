package main

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

// insecureRegistryFlag is the global --insecure-registry flag.
func insecureRegistryFlag() cli.Flag {
	return &cli.StringSliceFlag{
		Name:    "insecure-registry",
		Usage:   "allow plain HTTP for registry HOST[:PORT] (repeatable; loopback registries always may use it)",
		EnvVars: []string{"GOCKER_INSECURE_REGISTRIES"},
	}
}

// registryOptions returns how to reach registries: the global
// --insecure-registry list, the CA certificates of the certs.d
// directories, and credentials from Docker's config file.
func registryOptions(c *cli.Context) (image.RegistryOptions, error) {
	var insecure []string
	for _, ctx := range c.Lineage() {
		for _, r := range ctx.StringSlice("insecure-registry") {
			if !slices.Contains(insecure, r) {
				insecure = append(insecure, r)
			}
		}
	}
	path, err := image.DockerConfigPath()
	if err != nil {
		return image.RegistryOptions{}, err
	}
	keychain, err := image.LoadDockerConfig(path)
	if err != nil {
		return image.RegistryOptions{}, err
	}
	return image.RegistryOptions{
		Insecure:  insecure,
		CertsDirs: certsDirs(),
		Keychain:  keychain,
		UserAgent: "gocker/" + version,
	}, nil
}

// certsDirs returns the directories whose HOST[:PORT]/*.crt files are
// trusted CA certificates for that registry: the user's
// $XDG_CONFIG_HOME/gocker/certs.d (default ~/.config/gocker/certs.d) and
// /etc/gocker/certs.d.
func certsDirs() []string {
	var dirs []string
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		dirs = append(dirs, filepath.Join(dir, "gocker", "certs.d"))
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".config", "gocker", "certs.d"))
	}
	return append(dirs, "/etc/gocker/certs.d")
}
