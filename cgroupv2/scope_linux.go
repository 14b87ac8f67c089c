package cgroupv2

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/gocker/gocker/userns"
	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// scopeSlice is the slice of the user's systemd manager that holds the
// containers' scopes, as Podman's do.
const scopeSlice = "user.slice"

// leafName is the cgroup inside a container's scope that holds its
// processes and its limits.
const leafName = "container"

// scopeTimeout bounds the wait for the user manager.
const scopeTimeout = 30 * time.Second

// scopeCgroup is a rootless container's cgroup: a transient scope unit of
// the user's systemd manager, gocker-ID.scope, with Delegate=yes, and the
// leaf cgroup "container" inside it.
//
// systemd owns the scope's own interface files and rewrites them when it
// reloads, but leaves the delegated subtree below alone, so the limits go
// to the leaf. The scope must then have no processes of its own (cgroup
// v2's no-internal-processes rule), so the process moves to the leaf
// before the scope enables controllers for its children.
type scopeCgroup struct {
	scope, leaf string
	oomKilled   atomic.Bool
	watch       *os.File // inotify on the leaf's memory.events; nil without one
}

func createScope(ctx context.Context, opts Options) (_ Cgroup, retErr error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, scopeTimeout)
		defer cancel()
	}
	unit := scopeUnit(opts.ID)
	start := time.Now()
	pending := opts.Scope
	if pending == nil || pending.id != opts.ID || pending.pid != opts.Pid {
		pending = StartScope(ctx, opts.ID)
		pending.Start(opts.Pid)
	}
	if err := pending.wait(ctx, opts.Resources); err != nil {
		return nil, err
	}
	opts.Logger.Debug("systemd scope started", "unit", unit, "duration", time.Since(start))
	// The scope's path comes from the process's own cgroup, which also
	// proves that the manager moved it.
	path, err := procCgroupPath(opts.Pid)
	if err != nil {
		return nil, err
	}
	if filepath.Base(path) != unit {
		return nil, fmt.Errorf("process %d is in cgroup %s, not in the new scope %s", opts.Pid, path, unit)
	}
	cg := &scopeCgroup{scope: filepath.Join(Root, path)}
	cg.leaf = filepath.Join(cg.scope, leafName)
	defer func() {
		if retErr != nil {
			_ = cg.Remove(context.Background())
		}
	}()
	if err := os.Mkdir(cg.leaf, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	if err := addProcess(cg.leaf, opts.Pid); err != nil {
		return nil, err
	}
	if err := cg.delegate(opts.Resources); err != nil {
		return nil, err
	}
	leaf := &unifiedCgroup{dir: cg.leaf}
	if err := leaf.apply(opts); err != nil {
		return nil, err
	}
	cg.watchOOM()
	opts.Logger.Debug("limits written", "cgroup", cg.leaf, "duration", time.Since(start))
	return cg, nil
}

// PendingScope is the scope of a rootless container that [StartScope]
// prepares in the background, so that its D-Bus round trips overlap with
// the rest of the container's start. [Create] waits for it.
type PendingScope struct {
	id    string
	pid   int           // set by Start before it sends on start
	start chan struct{} // closed by Start or Abandon
	done  chan struct{} // closed when the job finished
	err   error
}

// StartScope connects to the calling user's systemd manager for the scope
// of container id, in the background. Call Start with the pid the scope
// will hold, or Abandon, then pass the scope to [Create] in [Options] and
// call Wait before the caller returns.
func StartScope(ctx context.Context, id string) *PendingScope {
	p := &PendingScope{id: id, start: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		ctx, cancel := context.WithTimeout(ctx, scopeTimeout)
		defer cancel()
		p.err = startScope(ctx, id, p)
	}()
	return p
}

// Start asks for the scope, to hold process pid, once connected.
func (p *PendingScope) Start(pid int) {
	p.pid = pid
	close(p.start)
}

// Abandon gives up the scope before Start.
func (p *PendingScope) Abandon() {
	close(p.start)
}

// Wait waits until the scope's job finished, successfully or not.
func (p *PendingScope) Wait() { <-p.done }

// wait returns the scope's result, with the flags of r in an
// *UnsupportedError.
func (p *PendingScope) wait(ctx context.Context, r Resources) error {
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	var unsupported *UnsupportedError
	if errors.As(p.err, &unsupported) {
		copied := *unsupported
		copied.Flags = joinAnd(r.flags())
		return &copied
	}
	return p.err
}

func scopeUnit(id string) string { return "gocker-" + id + ".scope" }

// startScope asks the user's systemd manager over the user's D-Bus for the
// transient scope of container id that holds pid, and waits for the job
// to finish.
func startScope(ctx context.Context, id string, p *PendingScope) error {
	unit := scopeUnit(id)
	if err := setBusAddress(); err != nil {
		return err
	}
	conn, err := sddbus.NewUserConnectionContext(ctx)
	if err != nil {
		return &UnsupportedError{
			Reason: fmt.Sprintf("connect to the systemd user manager over %s: %v", os.Getenv("DBUS_SESSION_BUS_ADDRESS"), err),
			Fix:    userManagerResult(State{User: currentUser(), UID: os.Getuid()}).Fix,
		}
	}
	defer conn.Close()
	select {
	case <-p.start:
	case <-ctx.Done():
		return fmt.Errorf("start systemd scope %s: %w", unit, ctx.Err())
	}
	if p.pid == 0 {
		return errors.New("the container's start was abandoned")
	}
	props := []sddbus.Property{
		sddbus.PropDescription("gocker container " + id),
		sddbus.PropSlice(scopeSlice),
		sddbus.PropPids(uint32(p.pid)),
		{Name: "Delegate", Value: dbus.MakeVariant(true)},
		// The scope is garbage-collected even when systemd counts the
		// container's end (an OOM kill, say) as a failure.
		{Name: "CollectMode", Value: dbus.MakeVariant("inactive-or-failed")},
		{Name: "DefaultDependencies", Value: dbus.MakeVariant(false)},
	}
	done := make(chan string, 1)
	if _, err := conn.StartTransientUnitContext(ctx, unit, "fail", props, done); err != nil {
		return fmt.Errorf("start systemd scope %s: %w", unit, err)
	}
	select {
	case result := <-done:
		if result != "done" {
			return fmt.Errorf("start systemd scope %s: job %s", unit, result)
		}
	case <-ctx.Done():
		return fmt.Errorf("start systemd scope %s: %w", unit, ctx.Err())
	}
	return nil
}

// setBusAddress points DBUS_SESSION_BUS_ADDRESS at the user's bus socket
// (userBus) when it is unset: without an address, godbus would start
// dbus-launch.
func setBusAddress() error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return nil
	}
	uid := os.Getuid()
	path, ok := userBus(uid)
	if ok {
		return os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+path)
	}
	s := State{User: currentUser(), UID: uid, BusPath: path}
	return &UnsupportedError{
		Flags:  "resource limits",
		Reason: fmt.Sprintf("no user D-Bus at %s to ask the systemd user manager of %s for a cgroup", path, s.User),
		Fix:    userManagerResult(s).Fix,
	}
}

// delegate enables the controllers of r for the scope's children. The
// scope offers only what its parents enable for it: systemd enables the
// controllers that user@UID.service delegates, and the user may enable
// the rest in the cgroups of the user manager's subtree that it owns.
// The cgroups above the user manager belong to root and fail with EPERM,
// which is expected.
func (cg *scopeCgroup) delegate(r Resources) error {
	need := r.Controllers()
	available, err := readControllersFile(filepath.Join(cg.scope, "cgroup.controllers"))
	if err != nil {
		return err
	}
	if missing := MissingControllers(available, need); len(missing) > 0 {
		enableInAncestors(cg.scope, missing)
		if available, err = readControllersFile(filepath.Join(cg.scope, "cgroup.controllers")); err != nil {
			return err
		}
	}
	if missing := MissingControllers(available, need); len(missing) > 0 {
		s := State{Mode: ModeUnified, Rootless: true, User: currentUser(), UID: os.Getuid(),
			Controllers: available, ControllersFrom: filepath.Join(cg.scope, "cgroup.controllers")}
		return missingError(s, r, missing)
	}
	return enableControllers(cg.scope, statControllers(available, r))
}

// enableInAncestors enables controllers in the subtree_control of each
// cgroup from the cgroup v2 root down to dir's parent, where the caller
// may, and ignores the failures: the caller checks the result.
func enableInAncestors(dir string, controllers []string) {
	rel, err := filepath.Rel(Root, filepath.Dir(dir))
	if err != nil {
		return
	}
	path := Root
	for _, part := range append([]string{""}, strings.Split(rel, "/")...) {
		path = filepath.Join(path, part)
		offered, err := readControllersFile(filepath.Join(path, "cgroup.controllers"))
		if err != nil {
			return
		}
		for _, c := range controllers {
			if !slices.Contains(offered, c) {
				continue
			}
			if err := enableControllers(path, []string{c}); err != nil && !isPermission(err) && !errors.Is(err, unix.ENOENT) {
				return
			}
		}
	}
}

// watchOOM reads the leaf's memory.events each time the kernel changes
// it, and remembers an OOM kill. The user manager removes the scope, leaf
// included, as soon as its last process exits, so the count may be gone
// by the time the container's exit is seen.
//
// NOTE: the watch wins that race only when it reads memory.events before
// systemd removes the scope. It has the head start of the kernel, which
// raises the oom_kill event before it sends SIGKILL, and of systemd's
// D-Bus round before the removal.
func (cg *scopeCgroup) watchOOM() {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return
	}
	if _, err := unix.InotifyAddWatch(fd, filepath.Join(cg.leaf, "memory.events"), unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return
	}
	// A non-blocking descriptor is served by the runtime's poller, so
	// closing it ends the pending Read.
	cg.watch = os.NewFile(uintptr(fd), "inotify")
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := cg.watch.Read(buf); err != nil {
				return
			}
			cg.readOOM()
		}
	}()
}

func (cg *scopeCgroup) readOOM() {
	values, err := readKeyedFile(filepath.Join(cg.leaf, "memory.events"))
	if err == nil && values["oom_kill"] > 0 {
		cg.oomKilled.Store(true)
	}
}

func (cg *scopeCgroup) OOMKilled() bool {
	cg.readOOM()
	return cg.oomKilled.Load()
}

func (cg *scopeCgroup) Dirs() []string { return []string{cg.leaf} }

// Remove stops the OOM watch. The user manager removes the scope, with
// the leaf, when its last process has exited, so gocker leaves it alone:
// waiting for rmdir(2) to stop failing with EBUSY would only delay the
// end of "gocker run".
func (cg *scopeCgroup) Remove(ctx context.Context) error {
	if cg.watch != nil {
		cg.watch.Close()
		cg.watch = nil
	}
	return nil
}

// currentUser returns the caller's user name, or its uid without one.
func currentUser() string {
	if id := userns.CurrentIdentity(); id.Name != "" {
		return id.Name
	}
	return strconv.Itoa(os.Getuid())
}

// AttachToScope moves process pid into dir when dir is the leaf of a
// container's systemd scope, through the user's systemd manager, and
// reports whether it did. An unprivileged process can write its pid to a
// cgroup.procs only when it owns the common ancestor of its current cgroup
// and the target, which a login session's scope and the user manager's
// subtree do not share; the manager can move it.
func AttachToScope(ctx context.Context, dir string, pid int) (bool, error) {
	unit := filepath.Base(filepath.Dir(dir))
	if filepath.Base(dir) != leafName || !strings.HasPrefix(unit, "gocker-") || !strings.HasSuffix(unit, ".scope") {
		return false, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, scopeTimeout)
		defer cancel()
	}
	if err := setBusAddress(); err != nil {
		return false, err
	}
	conn, err := sddbus.NewUserConnectionContext(ctx)
	if err != nil {
		return false, fmt.Errorf("connect to the systemd user manager: %w", err)
	}
	defer conn.Close()
	if err := conn.AttachProcessesToUnit(ctx, unit, "/"+leafName, []uint32{uint32(pid)}); err != nil {
		return false, fmt.Errorf("move process %d into %s of %s: %w", pid, leafName, unit, err)
	}
	return true, nil
}
