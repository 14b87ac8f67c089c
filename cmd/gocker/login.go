package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var loginCommand = &cli.Command{
	Name:      "login",
	Usage:     "check and store the credentials of a registry in Docker's config file",
	ArgsUsage: "[REGISTRY]",
	Description: `Stores the credentials in $DOCKER_CONFIG/config.json (default
~/.docker/config.json, mode 0600), where Docker keeps them too, or in the
credential helper that the file's "credHelpers" or "credsStore" names
(the program docker-credential-NAME). REGISTRY defaults to Docker Hub.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "user name (default: asked on the terminal)"},
		&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password (visible in the process list: prefer --password-stdin)"},
		&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
		insecureRegistryFlag(),
	},
	Action: loginAction,
}

var logoutCommand = &cli.Command{
	Name:      "logout",
	Usage:     "remove the credentials of a registry from Docker's config file or credential helper",
	ArgsUsage: "[REGISTRY]",
	Action:    logoutAction,
}

// registryArg returns the registry host of login and logout, Docker Hub
// by default.
func registryArg(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return "docker.io", nil
	case 1:
		reg := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(c.Args().First(), "https://"), "http://"), "/")
		if reg == "" || strings.Contains(reg, "/") {
			return "", &exitError{code: 125, err: fmt.Errorf("invalid registry %q: give HOST[:PORT]", c.Args().First())}
		}
		return reg, nil
	}
	return "", &exitError{code: 125, err: fmt.Errorf("\"gocker %s\" accepts at most 1 argument: [REGISTRY]", c.Command.Name)}
}

func loginAction(c *cli.Context) error {
	reg, err := registryArg(c)
	if err != nil {
		return err
	}
	user, password, err := loginCredentials(c)
	if err != nil {
		return err
	}
	opts, err := registryOptions(c)
	if err != nil {
		return err
	}
	if err := image.Login(c.Context, reg, user, password, opts); err != nil {
		return err
	}
	path, err := image.DockerConfigPath()
	if err != nil {
		return err
	}
	cfg, err := image.LoadDockerConfig(path)
	if err != nil {
		return err
	}
	if err := cfg.SetAuth(reg, user, password); err != nil {
		return err
	}
	if err := cfg.Save(); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, "Login Succeeded")
	return nil
}

// loginCredentials reads the user name and password from the flags,
// standard input or the terminal.
func loginCredentials(c *cli.Context) (string, string, error) {
	user, password := c.String("username"), c.String("password")
	if c.Bool("password-stdin") {
		if c.IsSet("password") {
			return "", "", &exitError{code: 125, err: errors.New("--password and --password-stdin are mutually exclusive")}
		}
		if user == "" {
			return "", "", &exitError{code: 125, err: errors.New("--password-stdin needs --username")}
		}
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return "", "", fmt.Errorf("read password from standard input: %w", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	}
	stdinTTY := term.IsTerminal(int(os.Stdin.Fd()))
	if user == "" {
		if !stdinTTY {
			return "", "", &exitError{code: 125, err: errors.New("no user name: pass --username, or run on a terminal")}
		}
		fmt.Fprint(os.Stderr, "Username: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return "", "", fmt.Errorf("read user name: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	if password == "" {
		if !stdinTTY {
			return "", "", &exitError{code: 125, err: errors.New("no password: pass --password-stdin, or run on a terminal")}
		}
		fmt.Fprint(os.Stderr, "Password: ")
		data, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", "", fmt.Errorf("read password: %w", err)
		}
		password = string(data)
	}
	if user == "" || password == "" {
		return "", "", &exitError{code: 125, err: errors.New("user name and password must not be empty")}
	}
	return user, password, nil
}

func logoutAction(c *cli.Context) error {
	reg, err := registryArg(c)
	if err != nil {
		return err
	}
	path, err := image.DockerConfigPath()
	if err != nil {
		return err
	}
	cfg, err := image.LoadDockerConfig(path)
	if err != nil {
		return err
	}
	found, err := cfg.RemoveAuth(reg)
	if err != nil {
		return err
	}
	if !found {
		fmt.Fprintf(c.App.Writer, "Not logged in to %s\n", reg)
		return nil
	}
	if err := cfg.Save(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Removing login credentials for %s\n", reg)
	return nil
}
