package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and run a container, in the foreground or detached (-d)",
	ArgsUsage: "IMAGE [COMMAND] [ARG...]",
	Description: `Runs COMMAND (or the image's entrypoint and command) in a new container and
exits with its exit status: 125 when gocker fails, 126 when the command
cannot be executed, 127 when it is not found, 128+N when signal N ends it.
With -d, gocker prints the container's id once it runs and exits; a monitor
process keeps the container, its log and its restart policy.`,
	Flags:                  runFlags(),
	UseShortOptionHandling: true,
	Action:                 func(c *cli.Context) error { return runFailure(runAction(c)) },
}

func runFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
		&cli.StringFlag{Name: "name", Usage: "name of the container (default: a random name)"},
		newListFlag("env", "e", "set an environment variable: KEY=VALUE, or KEY to pass the host's value"),
		newListFlag("env-file", "", "read environment variables from a file of KEY=VALUE lines"),
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory in the container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "user in the container: USER[:GROUP], names or numeric ids"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "host name of the container (default: the first 12 digits of its id)"},
		&cli.StringFlag{Name: "entrypoint", Usage: "replace the image's entrypoint (\"\" clears it)"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "connect standard input to the container"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the container a terminal"},
		newListFlag("volume", "v", "bind mount HOST-PATH:CONTAINER-PATH[:ro]"),
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Usage: "network: bridge (root's default), slirp4netns or pasta (a user's default: see the README), none (loopback only) or host; slirp4netns and pasta take the options \":allow_host_loopback=true\" and \":port_handler=bypass\" (README)"},
		newListFlag("publish", "p", "publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], a random host port without HOSTPORT"),
		newListFlag("add-host", "", "add NAME:IP (or NAME=IP) to the container's /etc/hosts; IP host-gateway is the address at which the container reaches the host"),
		newListFlag("dns", "", "nameserver of the container's /etc/resolv.conf, in place of its network's"),
		newListFlag("dns-search", "", "search domain of the container's /etc/resolv.conf, in place of the host's (\".\" for none)"),
		newListFlag("dns-option", "", "option of the container's /etc/resolv.conf, such as ndots:2, in place of the host's"),
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem read-only"},
		newListFlag("cap-add", "", "add a capability to Docker's default set (e.g. NET_ADMIN, or ALL)"),
		newListFlag("cap-drop", "", "drop a capability from the default set (e.g. NET_RAW, or ALL)"),
		newListFlag("security-opt", "", "seccomp=unconfined runs without a seccomp filter, seccomp=PROFILE.json applies a Docker-format profile in place of Docker's default (seccomp=builtin), and no-new-privileges is accepted (gocker always sets it)"),
		&cli.StringFlag{Name: "pull", Value: pullMissing, Usage: "pull the image: missing (when not stored), always or never"},
		&cli.StringFlag{Name: "platform", Usage: "platform of the image: os/arch[/variant]; a stored image for another platform is pulled, or rejected with --pull never"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the container in the background and print its id"},
		&cli.StringFlag{Name: "restart", Value: container.RestartNo, Usage: "restart policy: no, on-failure[:MAX-RETRIES], always or unless-stopped"},
		&cli.StringFlag{Name: "log-driver", Value: container.LogDriverJSONFile, Usage: "where the container's output goes: json-file, or none"},
		newListFlag("log-opt", "", "log driver option: max-size=SIZE (bytes, or with k, m, g) rotates the log at that size, max-file=N keeps N files"),
		&cli.BoolFlag{Name: "init", Usage: "run an init as PID 1 that forwards signals to the command and reaps zombies"},
		&cli.StringFlag{Name: "stop-signal", Usage: "signal that gocker stop sends first (default: the image's STOPSIGNAL, else SIGTERM)"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "seconds gocker stop waits for the container to exit before SIGKILL", DefaultText: "10"},
	}
	return append(flags, resourceFlags()...)
}

// runOptions are the parsed flags and arguments of gocker run.
type runOptions struct {
	image        string
	remove       bool
	create       container.CreateOptions
	envFlags     []string
	envFiles     []string
	volumes      []string
	securityOpts []string
	entrypoint   string
	hasEntry     bool
	detach       bool
	logDriver    string
	logOpts      []string
	restart      string
}

func parseRunOptions(c *cli.Context) (*runOptions, error) {
	if c.NArg() < 1 {
		return nil, &exitError{code: 125, err: fmt.Errorf("\"gocker %s\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]", c.Command.Name)}
	}
	o := &runOptions{
		image:        c.Args().First(),
		remove:       c.Bool("rm"),
		envFlags:     c.StringSlice("env"),
		envFiles:     c.StringSlice("env-file"),
		volumes:      c.StringSlice("volume"),
		securityOpts: c.StringSlice("security-opt"),
		entrypoint:   c.String("entrypoint"),
		hasEntry:     flagGiven(c, "entrypoint"),
		detach:       c.Bool("detach"),
		logDriver:    c.String("log-driver"),
		logOpts:      c.StringSlice("log-opt"),
		restart:      c.String("restart"),
	}
	o.create = container.CreateOptions{
		Name:       c.String("name"),
		Image:      o.image,
		Cmd:        c.Args().Tail(),
		Workdir:    c.String("workdir"),
		User:       c.String("user"),
		Hostname:   c.String("hostname"),
		OpenStdin:  c.Bool("interactive"),
		Tty:        c.Bool("tty"),
		Network:    c.String("network"),
		ReadOnly:   c.Bool("read-only"),
		CapAdd:     c.StringSlice("cap-add"),
		CapDrop:    c.StringSlice("cap-drop"),
		AutoRemove: c.Bool("rm"),
		Init:       c.Bool("init"),
		StopSignal: c.String("stop-signal"),
	}
	if flagGiven(c, "stop-timeout") {
		timeout := c.Int("stop-timeout")
		o.create.StopTimeout = &timeout
	}
	if o.hasEntry {
		o.create.Entrypoint = &o.entrypoint
	}
	if err := o.validate(); err != nil {
		return o, err
	}
	network, err := parseRunNetwork(c)
	if err != nil {
		return o, err
	}
	o.create.Network = network.mode.String()
	o.create.NetworkConfig = network.config
	o.create.Resources, err = parseResources(c)
	return o, err
}

// validate checks every option before anything is created, and completes
// the create options with the environment and bind mounts.
func (o *runOptions) validate() error {
	if _, err := image.ParseReference(o.image); err != nil {
		return err
	}
	if o.create.Name != "" {
		if err := container.ValidateName(o.create.Name); err != nil {
			return err
		}
	}
	if o.create.Workdir != "" && !filepath.IsAbs(o.create.Workdir) {
		return fmt.Errorf("invalid --workdir %q: the working directory must be an absolute path", o.create.Workdir)
	}
	if err := container.ValidateUser(o.create.User); err != nil {
		return err
	}
	if err := container.ValidateHostname(o.create.Hostname); err != nil {
		return err
	}
	caps, err := container.Capabilities(o.create.CapAdd, o.create.CapDrop)
	if err != nil {
		return err
	}
	if o.create.SecurityOpt, err = container.ParseSecurityOpts(o.securityOpts, caps); err != nil {
		return err
	}
	if o.create.Tty && o.create.OpenStdin && !o.detach && !term.IsTerminal(int(os.Stdin.Fd())) {
		return container.ErrNotATerminal
	}
	if err := o.validateLifecycle(); err != nil {
		return err
	}
	env, err := readEnv(o.envFiles, o.envFlags)
	if err != nil {
		return err
	}
	o.create.Env = env
	for _, v := range o.volumes {
		m, err := parseVolume(v)
		if err != nil {
			return err
		}
		o.create.Binds = append(o.create.Binds, m)
	}
	return nil
}

func readEnv(files, flags []string) ([]string, error) {
	var env []string
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("invalid --env-file: %w", err)
		}
		vars, err := container.ParseEnvFile(f, os.LookupEnv)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("invalid --env-file %s: %w", path, err)
		}
		env = append(env, vars...)
	}
	vars, err := container.ParseEnvFlags(flags, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return append(env, vars...), nil
}

// parseVolume parses HOST-PATH:CONTAINER-PATH[:ro|rw]. The host path must
// exist: gocker does not create host directories on the user's behalf.
func parseVolume(spec string) (container.Mount, error) {
	parts := strings.Split(spec, ":")
	bad := func(why string) (container.Mount, error) {
		return container.Mount{}, fmt.Errorf("invalid --volume %q: %s", spec, why)
	}
	if len(parts) < 2 || len(parts) > 3 {
		return bad("use HOST-PATH:CONTAINER-PATH[:ro]")
	}
	m := container.Mount{Source: parts[0], Destination: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return bad(fmt.Sprintf("unknown option %q: use ro or rw", parts[2]))
		}
	}
	// As in Docker, a host path starting with "." is relative to the
	// current directory; other names would be named volumes.
	if strings.HasPrefix(m.Source, ".") {
		abs, err := filepath.Abs(m.Source)
		if err != nil {
			return bad(err.Error())
		}
		m.Source = abs
	}
	if !filepath.IsAbs(m.Source) {
		return bad(fmt.Sprintf("the host path %q is a volume name, which gocker does not support: give an absolute host path or one starting with \".\"", m.Source))
	}
	if !filepath.IsAbs(m.Destination) {
		return bad("the container path must be absolute")
	}
	if filepath.Clean(m.Destination) == "/" {
		return bad("the container path cannot be /")
	}
	if _, err := os.Stat(m.Source); err != nil {
		return bad(fmt.Sprintf("host path: %v: create it first", err))
	}
	m.Source = filepath.Clean(m.Source)
	m.Destination = filepath.Clean(m.Destination)
	return m, nil
}

func runAction(c *cli.Context) error {
	// The first process start of a Go program probes pidfd support by
	// starting and reaping a child, about 0.3 ms. Probing now lets that
	// run on another CPU while the options are parsed and the image is
	// looked up, instead of in front of the init's start.
	go warmProcessStart()
	opts, err := parseRunOptions(c)
	if err != nil {
		return err
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	if opts.detach || opts.create.RestartPolicy.Enabled() {
		if err := ensureImage(c, st, opts.image); err != nil {
			return err
		}
		return runDetached(c, st, opts)
	}
	ctx := c.Context
	stdio := container.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	// The init starts, and its id maps are written, while the image is
	// looked up (or pulled) and the container's record is created.
	launchOpts, err := container.NewLaunchOptions(opts.create.Network, opts.create.OpenStdin, opts.create.Tty, stdio, slog.Default())
	if err != nil {
		return err
	}
	launchOpts.Init = opts.create.Init
	seccomp := st.containers.SeccompSettings(container.HostConfig{CapAdd: opts.create.CapAdd, CapDrop: opts.create.CapDrop, SecurityOpt: opts.create.SecurityOpt})
	launchOpts.Seccomp = &seccomp
	// A rootless container with limits gets a systemd scope, which its
	// cgroup hook finishes; the D-Bus round trips overlap with the init's
	// start and the record's creation.
	var scope *cgroupv2.PendingScope
	if opts.create.Resources.Limited() && launchOpts.Rootless {
		opts.create.ID = container.NewID()
		scope = cgroupv2.StartScope(ctx, opts.create.ID, opts.create.Resources)
		defer scope.Wait()
	}
	launch, err := container.LaunchInit(ctx, launchOpts)
	if err != nil {
		if scope != nil {
			scope.Abandon()
		}
		return err
	}
	if scope != nil {
		scope.Start(launch.Pid())
	}
	if err := ensureImage(c, st, opts.image); err != nil {
		launch.Abort()
		return err
	}
	ctr, err := createContainer(ctx, st, opts.create)
	if err != nil {
		launch.Abort()
		return err
	}
	code, runErr := st.containers.Run(ctx, ctr, container.RunOptions{
		IO:        stdio,
		LayersDir: st.images.Layers.Dir(),
		Logger:    slog.Default(),
		Launch:    launch,
		Hooks:     containerHooks(st, ctr, scope),
	})
	switch {
	case opts.remove && st.containers.TakeRestartRequest(ctr):
		// gocker restart starts it again with a detached monitor, which
		// removes it when it next exits.
	case opts.remove:
		if err := st.containers.Remove(context.WithoutCancel(ctx), ctr); err != nil {
			runErr = errors.Join(runErr, err)
		}
	case runErr != nil:
		runErr = errors.Join(runErr, removeUnstarted(ctx, st, ctr.ID, runErr))
	}
	if runErr != nil {
		return runErr
	}
	return statusError{code: code}
}

// removeUnstarted removes the container id that this gocker run created
// when its start failed with a gocker error (status 125) before the
// container's process ran. So bad input such as an unknown user leaves no
// container behind, where Docker keeps one. The statuses 126 and 127
// (command not executable, not found) keep the container, as in Docker.
func removeUnstarted(ctx context.Context, st *stores, id string, startErr error) error {
	if exitStatus(startErr) != container.ExitGockerError {
		return nil
	}
	ctr, err := st.containers.Get(id)
	if err != nil {
		// A monitor that failed may have removed it already.
		return nil
	}
	if ctr.State.Status != container.StatusCreated || !ctr.State.StartedAt.IsZero() {
		return nil
	}
	return st.containers.Remove(context.WithoutCancel(ctx), ctr)
}

// createContainer resolves the image and writes the container's record. It
// holds the layer lock meanwhile, so that gocker rmi cannot remove the
// image's layers before the record that protects them exists.
func createContainer(ctx context.Context, st *stores, opts container.CreateOptions) (*container.Container, error) {
	lock, err := st.images.Layers.LockShared(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	img, err := st.images.Get(opts.Image)
	if err != nil {
		if errors.Is(err, image.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s: pull it, or create it with \"gocker import FILE %s\" or \"gocker init DIR %s\"", image.ErrNotFound, opts.Image, opts.Image, opts.Image)
		}
		return nil, err
	}
	cfg, err := st.images.Config(img)
	if err != nil {
		return nil, err
	}
	opts.ImageID = img.ID
	opts.Layers = img.Layers
	opts.ImageConfig = cfg.Config
	ctr, err := container.NewContainer(opts)
	if err != nil {
		return nil, err
	}
	if err := st.containers.Create(ctr); err != nil {
		return nil, err
	}
	slog.Debug("created container", "container", ctr.ID, "name", ctr.Name, "image", img.ID)
	return ctr, nil
}

// prepareRun parses the options of gocker run or create, opens the stores
// and pulls the image as the --pull policy requires.
func prepareRun(c *cli.Context) (*runOptions, *stores, error) {
	opts, err := parseRunOptions(c)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStores(c)
	if err != nil {
		return nil, nil, err
	}
	if err := ensureImage(c, st, opts.image); err != nil {
		return nil, nil, err
	}
	return opts, st, nil
}

// warmProcessStart makes the os package probe pidfd support, which it does
// once per process, before the first process start.
func warmProcessStart() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Release()
	}
}
