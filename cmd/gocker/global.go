package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

func globalFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{
			Name:    "root",
			Usage:   "directory of images and containers (default: $XDG_DATA_HOME/gocker or ~/.local/share/gocker; /var/lib/gocker for root)",
			EnvVars: []string{"GOCKER_ROOT"},
		},
		&cli.StringFlag{
			Name:    "log-level",
			Usage:   "log level: debug, info, warn or error",
			Value:   "warn",
			EnvVars: []string{"GOCKER_LOG_LEVEL"},
		},
		&cli.BoolFlag{
			Name:    "debug",
			Aliases: []string{"D"},
			Usage:   "log debug messages (same as --log-level debug)",
		},
		insecureRegistryFlag(),
	}, networkFlags()...)
}

func setupLogging(c *cli.Context) error {
	level := slog.LevelWarn
	name := c.String("log-level")
	if c.Bool("debug") {
		name = "debug"
	}
	if err := level.UnmarshalText([]byte(name)); err != nil {
		return &exitError{code: 125, err: fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", name)}
	}
	handler := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	slog.SetDefault(slog.New(handler))
	return nil
}

// storeRoot returns the directory of images and containers.
func storeRoot(c *cli.Context) (string, error) {
	if root := c.String("root"); root != "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			return "", fmt.Errorf("invalid --root %q: %w", root, err)
		}
		return abs, nil
	}
	if os.Geteuid() == 0 {
		return "/var/lib/gocker", nil
	}
	if dir := os.Getenv("XDG_DATA_HOME"); strings.HasPrefix(dir, "/") {
		return filepath.Join(dir, "gocker"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return "", fmt.Errorf("no home directory to keep images in: set $HOME or pass --root DIR")
	}
	return filepath.Join(home, ".local", "share", "gocker"), nil
}
