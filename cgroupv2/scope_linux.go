package cgroupv2

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gocker/gocker/userns"
	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// scopeSlice is the slice of the user's systemd manager that holds the
// containers' scopes, as Podman's do.
const scopeSlice = "user.slice"

// leafName is the cgroup inside a container's scope that held its
// processes and its limits before the limits became the scope's
// properties. gocker exec still finds containers started then by it.
const leafName = "container"

// allLimits is the Flags of an *UnsupportedError that concerns every
// limit.
const allLimits = "resource limits"

// scopeTimeout bounds the wait for the user manager.
const scopeTimeout = 30 * time.Second

// scopeCgroup is a rootless container's cgroup: a transient scope unit of
// the user's systemd manager, gocker-ID.scope, with Delegate=yes.
//
// The limits are the scope's unit properties (MemoryMax=, TasksMax=, ...),
// which systemd writes to the scope's interface files while it starts the
// scope, before the process moves in, and writes again whenever it
// reloads. So gocker creates no cgroup of its own, moves no process and
// enables no controller: each of those would take the kernel's cgroup
// locks once more on the start's critical path.
type scopeCgroup struct {
	dir       string
	oomKilled atomic.Bool
	watch     *os.File // inotify on the scope's memory.events; nil without one
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
		pending = StartScope(ctx, opts.ID, opts.Resources)
		pending.Start(opts.Pid)
	}
	if err := pending.wait(ctx, opts.Resources); err != nil {
		return nil, err
	}
	opts.Logger.Debug("systemd scope started", "unit", unit, "via", pending.via, "duration", time.Since(start))
	// The scope's path comes from the process's own cgroup, which also
	// proves that the manager moved it.
	path, err := procCgroupPath(opts.Pid)
	if err != nil {
		return nil, err
	}
	if filepath.Base(path) != unit {
		return nil, fmt.Errorf("process %d is in cgroup %s, not in the new scope %s", opts.Pid, path, unit)
	}
	cg := &scopeCgroup{dir: filepath.Join(Root, path)}
	// systemd leaves out a limit whose controller the scope lacks.
	available, err := readControllersFile(filepath.Join(cg.dir, "cgroup.controllers"))
	if err != nil {
		return nil, err
	}
	if missing := MissingControllers(available, opts.Resources.Controllers()); len(missing) > 0 {
		s := State{Mode: ModeUnified, Rootless: true, User: currentUser(), UID: os.Getuid(),
			Controllers: available, ControllersFrom: filepath.Join(cg.dir, "cgroup.controllers")}
		return nil, missingError(s, opts.Resources, missing)
	}
	cg.watchOOM()
	opts.Logger.Debug("scope limits checked", "cgroup", cg.dir, "duration", time.Since(start))
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
	via   string // the address of the connection to the manager
}

// StartScope connects to the calling user's systemd manager for the scope
// of container id with the limits of r, in the background. Call Start
// with the pid the scope will hold, or Abandon, then pass the scope to
// [Create] in [Options] and call Wait before the caller returns.
func StartScope(ctx context.Context, id string, r Resources) *PendingScope {
	p := &PendingScope{id: id, start: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		ctx, cancel := context.WithTimeout(ctx, scopeTimeout)
		defer cancel()
		p.err = startScope(ctx, id, r, p)
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

// wait returns the scope's result. An *UnsupportedError about the user
// manager as a whole gets the flags of r; one about a single flag, such
// as --memory-swap, keeps it.
func (p *PendingScope) wait(ctx context.Context, r Resources) error {
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	var unsupported *UnsupportedError
	if errors.As(p.err, &unsupported) && (unsupported.Flags == "" || unsupported.Flags == allLimits) {
		copied := *unsupported
		copied.Flags = joinAnd(r.flags())
		return &copied
	}
	return p.err
}

func scopeUnit(id string) string { return "gocker-" + id + ".scope" }

// startScope requests from the user's systemd manager the transient scope
// of container id that holds pid with the limits of r, and waits for the
// job to finish.
func startScope(ctx context.Context, id string, r Resources, p *PendingScope) error {
	unit := scopeUnit(id)
	limits, err := limitProperties(r)
	if err != nil {
		return err
	}
	conn, via, err := connectManager(ctx, unit)
	if err != nil {
		return err
	}
	defer conn.Close()
	p.via = via
	// The job's end comes as a signal, which may arrive before the reply
	// that names the job: the channel keeps it until then.
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	select {
	case <-p.start:
	case <-ctx.Done():
		return fmt.Errorf("start systemd scope %s: %w", unit, ctx.Err())
	}
	if p.pid == 0 {
		return errors.New("the container's start was abandoned")
	}
	props := []property{
		{"Description", dbus.MakeVariant("gocker container " + id)},
		{"Slice", dbus.MakeVariant(scopeSlice)},
		{"PIDs", dbus.MakeVariant([]uint32{uint32(p.pid)})},
		{"Delegate", dbus.MakeVariant(true)},
		// The scope is garbage-collected even when systemd counts the
		// container's end (an OOM kill, say) as a failure.
		{"CollectMode", dbus.MakeVariant("inactive-or-failed")},
		{"DefaultDependencies", dbus.MakeVariant(false)},
	}
	props = append(props, limits...)
	var job dbus.ObjectPath
	err = manager(conn).CallWithContext(ctx, managerInterface+".StartTransientUnit", 0,
		unit, "fail", props, []struct {
			Name  string
			Props []property
		}{}).Store(&job)
	if err != nil {
		return fmt.Errorf("start systemd scope %s: %w", unit, err)
	}
	for {
		select {
		case sig, ok := <-signals:
			if !ok {
				return fmt.Errorf("start systemd scope %s: the connection to the systemd user manager closed", unit)
			}
			// JobRemoved(id, job, unit, result)
			if sig.Name != managerInterface+".JobRemoved" || len(sig.Body) != 4 || sig.Body[1] != job {
				continue
			}
			if result, _ := sig.Body[3].(string); result != "done" {
				return fmt.Errorf("start systemd scope %s: job %s", unit, result)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("start systemd scope %s: %w", unit, ctx.Err())
		}
	}
}

// property is a systemd unit property, as StartTransientUnit takes it.
type property struct {
	Name  string
	Value dbus.Variant
}

const managerInterface = "org.freedesktop.systemd1.Manager"

func manager(conn *dbus.Conn) dbus.BusObject {
	return conn.Object("org.freedesktop.systemd1", "/org/freedesktop/systemd1")
}

// connectManager opens one connection to the calling user's systemd
// manager. It tries the manager's private socket first, as systemctl
// --user does: a direct connection has no bus daemon in between, no Hello
// and no match rules, because the manager sends its signals to every
// direct peer. Otherwise it connects over the user's D-Bus and, for a
// unit, adds a match rule for the manager's JobRemoved signals about it.
func connectManager(ctx context.Context, unit string) (_ *dbus.Conn, address string, _ error) {
	address = "unix:path=" + filepath.Join(runtimeDir(os.Getuid()), "systemd", "private")
	if conn, err := dialManager(ctx, address, false); err == nil {
		return conn, address, nil
	}
	if err := setBusAddress(); err != nil {
		return nil, "", err
	}
	address = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	conn, err := dialManager(ctx, address, true)
	if err == nil && unit != "" {
		err = conn.AddMatchSignalContext(ctx,
			dbus.WithMatchSender("org.freedesktop.systemd1"),
			dbus.WithMatchObjectPath("/org/freedesktop/systemd1"),
			dbus.WithMatchInterface(managerInterface),
			dbus.WithMatchMember("JobRemoved"),
			dbus.WithMatchArg(2, unit))
		if err != nil {
			conn.Close()
		}
	}
	if err != nil {
		return nil, "", &UnsupportedError{
			Reason: fmt.Sprintf("connect to the systemd user manager over %s: %v", address, err),
			Fix:    userManagerResult(State{User: currentUser(), UID: os.Getuid()}).Fix,
		}
	}
	return conn, address, nil
}

// dialManager connects to address and authenticates with the caller's
// uid; hello registers with a bus daemon.
func dialManager(ctx context.Context, address string, hello bool) (*dbus.Conn, error) {
	conn, err := dbus.Dial(address, dbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	// EXTERNAL with the numeric uid needs no user name lookup.
	err = conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))})
	if err == nil && hello {
		err = conn.Hello()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
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
		Flags:  allLimits,
		Reason: fmt.Sprintf("no user D-Bus at %s to ask the systemd user manager of %s for a cgroup", path, s.User),
		Fix:    userManagerResult(s).Fix,
	}
}

// limitProperties returns the unit properties that set the limits of r
// on a scope. systemd 252 writes CPUQuotaPerSecUSec= to cpu.max with its
// default period of 100ms, which is [CPUPeriod], as the guest suite checks.
func limitProperties(r Resources) ([]property, error) {
	var props []property
	if r.Memory > 0 {
		props = append(props, property{"MemoryMax", dbus.MakeVariant(uint64(r.Memory))})
		swap, unlimited, explicit := r.SwapLimit()
		switch {
		case !swapSupported():
			if explicit {
				return nil, &UnsupportedError{
					Flags:  "--memory-swap",
					Reason: "the kernel has no swap support in its memory controller (memory.swap.max is missing)",
					Fix:    []string{"# leave out --memory-swap"},
				}
			}
		case unlimited:
			props = append(props, property{"MemorySwapMax", dbus.MakeVariant(uint64(math.MaxUint64))})
		default:
			props = append(props, property{"MemorySwapMax", dbus.MakeVariant(uint64(swap))})
		}
	}
	if r.NanoCPUs > 0 {
		perSec := uint64(CPUQuota(r.NanoCPUs)) * uint64(time.Second/time.Microsecond) / CPUPeriod
		props = append(props, property{"CPUQuotaPerSecUSec", dbus.MakeVariant(perSec)})
	}
	if r.CPUShares > 0 {
		props = append(props, property{"CPUWeight", dbus.MakeVariant(CPUWeight(r.CPUShares))})
	}
	if r.CpusetCpus != "" {
		cpus, err := ParseCPUList(r.CpusetCpus)
		if err != nil {
			return nil, fmt.Errorf("invalid --cpuset-cpus %q: %w", r.CpusetCpus, err)
		}
		props = append(props, property{"AllowedCPUs", dbus.MakeVariant(cpuMask(cpus))})
	}
	switch {
	case r.PidsLimit > 0:
		props = append(props, property{"TasksMax", dbus.MakeVariant(uint64(r.PidsLimit))})
	case r.PidsLimit == -1:
		props = append(props, property{"TasksMax", dbus.MakeVariant(uint64(math.MaxUint64))})
	}
	return props, nil
}

// cpuMask returns cpus as the bit mask of systemd's AllowedCPUs=: bit n%8
// of byte n/8 is CPU n.
func cpuMask(cpus []int) []byte {
	var mask []byte
	for _, c := range cpus {
		for len(mask) <= c/8 {
			mask = append(mask, 0)
		}
		mask[c/8] |= 1 << (c % 8)
	}
	return mask
}

// swapSupported reports whether the kernel's memory controller has swap
// support, from the memory.swap.max of the user manager's cgroup or,
// without one, of the caller's own.
func swapSupported() bool {
	uid := os.Getuid()
	dir := filepath.Join(Root, fmt.Sprintf("user.slice/user-%d.slice/user@%d.service", uid, uid))
	if !exists(dir) {
		path, err := procCgroupPath(os.Getpid())
		if err != nil {
			return false
		}
		dir = filepath.Join(Root, path)
	}
	return fileExists(filepath.Join(dir, "memory.swap.max"))
}

// watchOOM reads the scope's memory.events each time the kernel changes
// it, and remembers an OOM kill. The user manager removes the scope as
// soon as its last process exits, so the count may be gone
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
	if _, err := unix.InotifyAddWatch(fd, filepath.Join(cg.dir, "memory.events"), unix.IN_MODIFY); err != nil {
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
	values, err := readKeyedFile(filepath.Join(cg.dir, "memory.events"))
	if err == nil && values["oom_kill"] > 0 {
		cg.oomKilled.Store(true)
	}
}

func (cg *scopeCgroup) OOMKilled() bool {
	cg.readOOM()
	return cg.oomKilled.Load()
}

func (cg *scopeCgroup) Dirs() []string { return []string{cg.dir} }

// Remove stops the OOM watch. The user manager removes the scope when its last process has exited, so gocker leaves it alone:
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

// AttachToScope moves process pid into dir when dir is a container's
// systemd scope, or the leaf "container" inside one, through the user's
// systemd manager, and reports whether it did. An unprivileged process can
// write its pid to a cgroup.procs only when it owns the common ancestor of
// its current cgroup and the target. A login session's scope and the user
// manager's subtree share no such ancestor, so the manager moves it.
func AttachToScope(ctx context.Context, dir string, pid int) (bool, error) {
	unit, subgroup := filepath.Base(dir), ""
	if unit == leafName {
		unit, subgroup = filepath.Base(filepath.Dir(dir)), "/"+leafName
	}
	if !strings.HasPrefix(unit, "gocker-") || !strings.HasSuffix(unit, ".scope") {
		return false, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, scopeTimeout)
		defer cancel()
	}
	conn, _, err := connectManager(ctx, "")
	if err != nil {
		return false, err
	}
	defer conn.Close()
	err = manager(conn).CallWithContext(ctx, managerInterface+".AttachProcessesToUnit", 0,
		unit, subgroup, []uint32{uint32(pid)}).Store()
	if err != nil {
		return false, fmt.Errorf("move process %d into %s: %w", pid, filepath.Join(unit, subgroup), err)
	}
	return true, nil
}
