package netstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/gocker/gocker/internal/lockfile"
)

// AttachOptions describe the network of one container.
type AttachOptions struct {
	// ID is the container's id.
	ID string
	// Pid is the host pid of a process in the container's network
	// namespace (and, rootless, its user namespace).
	Pid  int
	Mode Mode
	// Rootless means the container has a user namespace mapped to the
	// caller.
	Rootless bool
	Ports    []PortMapping
	Bridge   BridgeConfig
	// StateDir is the runtime directory of network state: lease files
	// and the port driver's sockets.
	StateDir string
	// MonitorLock is the container's monitor lock, held while it runs.
	MonitorLock string
	// Bypass, when the mode's port handler is bypass, receives the host
	// sockets of the published TCP ports. Attach's cleanup closes it.
	Bypass *Bypass
	Log    *slog.Logger
}

// Attach gives the container its network and publishes its ports. The
// returned cleanup undoes everything, and is valid (and must be called)
// even when Attach fails. The modes none and host need nothing and return
// a no-op.
func Attach(ctx context.Context, opts AttachOptions) (Settings, func(context.Context) error, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := Settings{Mode: opts.Mode.String()}
	switch {
	case opts.Mode.Name == ModeBridge:
		a, bs, err := attachBridge(ctx, opts)
		bs.Mode = s.Mode
		return bs, func(ctx context.Context) error { return a.detach(ctx, opts.Log) }, err
	case opts.Mode.UserMode():
		return attachUserMode(ctx, opts)
	}
	return s, func(context.Context) error { return nil }, nil
}

// attachUserMode starts slirp4netns or pasta and, with published ports,
// the port driver.
func attachUserMode(ctx context.Context, opts AttachOptions) (Settings, func(context.Context) error, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	dir := portStateDir(opts.StateDir, opts.ID)
	var helper *helperProcess
	var fwd *portForwarder
	cleanup := func(ctx context.Context) error {
		errs := []error{fwd.stop(ctx), opts.Bypass.Close(), helper.stop(ctx)}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	if err := makePortStateDir(dir, opts.MonitorLock); err != nil {
		return Settings{}, cleanup, err
	}
	if opts.Rootless {
		if err := waitIDMaps(ctx, opts.Pid); err != nil {
			return Settings{}, cleanup, err
		}
	}

	var s Settings
	var err error
	switch opts.Mode.Name {
	case ModeSlirp4netns:
		helper, s, err = startSlirp4netns(ctx, opts.Pid, opts.Mode, opts.Rootless, opts.Log)
	case ModePasta:
		helper, s, err = startPasta(ctx, opts.Pid, opts.Mode, dir, opts.Rootless, opts.Log)
	}
	s.Mode = opts.Mode.String()
	if err != nil {
		return s, cleanup, fmt.Errorf("start %s: %w", opts.Mode.Name, err)
	}

	if len(opts.Ports) == 0 {
		s.SetPorts(nil)
		return s, cleanup, nil
	}
	var published []PortMapping
	forwarded := opts.Ports
	if opts.Bypass != nil {
		forwarded = nil
		for _, m := range opts.Ports {
			if m.Proto != "tcp" {
				forwarded = append(forwarded, m)
				continue
			}
			m, err := opts.Bypass.reserve(m)
			if err != nil {
				return s, cleanup, err
			}
			published = append(published, m)
		}
	}
	if len(forwarded) > 0 {
		var more []PortMapping
		fwd, more, err = startPortForwarder(ctx, forwarderOptions{
			Pid: opts.Pid, Rootless: opts.Rootless, Dir: dir, Ports: forwarded,
			ChildIP: s.IPAddress, Log: opts.Log,
		})
		if err != nil {
			return s, cleanup, err
		}
		published = append(published, more...)
	}
	s.SetPorts(published)
	return s, cleanup, nil
}

// waitIDMaps waits until the user namespace of pid has its uid and gid
// maps. The monitor writes them with newuidmap and newgidmap while hooks
// run, and slirp4netns, pasta and nsenter fail to become root in a user
// namespace without them.
func waitIDMaps(ctx context.Context, pid int) error {
	dir := "/proc/" + strconv.Itoa(pid)
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		uid, err1 := os.ReadFile(dir + "/uid_map")
		gid, err2 := os.ReadFile(dir + "/gid_map")
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("read the id maps of the container: %w", err)
		}
		if len(uid) > 0 && len(gid) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the id maps of the container: %w", ctx.Err())
		case <-time.After(delay):
		}
	}
}

// portStateDir returns the directory of a container's port driver socket
// and ready pipe. Unix socket paths are limited to 107 bytes, so the
// directory is short: the runtime directory and 12 digits of the id.
func portStateDir(stateDir, id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return filepath.Join(stateDir, "ports", id)
}

// makePortStateDir creates dir afresh and records in it the monitor lock
// from which [SweepStale] learns whether its container still runs. The
// directory appears by a rename with the record already in it, because a
// concurrent sweep removes a directory whose record it cannot read.
func makePortStateDir(dir, monitorLock string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("create port driver directory: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return fmt.Errorf("create port driver directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "monitor_lock"), []byte(monitorLock), 0o600); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("create port driver directory: %w", err)
	}
	return nil
}

// SweepStale cleans up after containers whose monitor died without
// cleaning up (SIGKILL, a crash): their bridge leases, veth pairs and
// firewall rules in stateDir's lease files, and their port driver
// directories. It only reads directory listings when nothing is stale.
func SweepStale(ctx context.Context, stateDir string, log *slog.Logger) error {
	var errs []error
	ports, _ := os.ReadDir(filepath.Join(stateDir, "ports"))
	for _, e := range ports {
		if strings.HasPrefix(e.Name(), ".") {
			continue // being created
		}
		dir := filepath.Join(stateDir, "ports", e.Name())
		lock, err := os.ReadFile(filepath.Join(dir, "monitor_lock"))
		if err == nil && lockfile.Held(string(lock)) {
			continue
		}
		errs = append(errs, os.RemoveAll(dir))
	}
	files, _ := filepath.Glob(filepath.Join(stateDir, "network", "*.json"))
	for _, path := range files {
		errs = append(errs, sweepLeaseFile(ctx, path, log))
	}
	return errors.Join(errs...)
}

func sweepLeaseFile(ctx context.Context, path string, log *slog.Logger) error {
	var peek bridgeState
	if err := atomicfile.ReadJSON(path, &peek); err != nil {
		return nil
	}
	// A setup without leases is left by a monitor that died between
	// creating the bridge and leasing its address.
	stale := len(peek.Leases) == 0 && peek.Gateway != ""
	for _, l := range peek.Leases {
		if !lockfile.Held(l.MonitorLock) {
			stale = true
		}
	}
	if !stale {
		return nil
	}
	leases, err := openLeases(ctx, filepath.Dir(path), peek.Bridge)
	if err != nil {
		return err
	}
	defer leases.close()
	sweepLeases(leases, log)
	return errors.Join(teardownIfUnused(leases), leases.save())
}
