package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"github.com/moby/sys/capability"
	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// finishProcess switches to the container's user with its capabilities,
// stdio and working directory. It runs after pivot_root, so /etc/passwd is
// the image's.
func finishProcess(spec *Spec, console *os.File) error {
	if console != nil {
		if err := attachConsole(console); err != nil {
			return err
		}
	}
	execUser, err := LookupUser(spec.User)
	if err != nil {
		return err
	}
	caps, err := ParseCapabilities(spec.Capabilities)
	if err != nil {
		return err
	}
	if err := dropBoundingSet(caps); err != nil {
		return err
	}
	switchUser := SwitchUser
	if !spec.Init {
		switchUser = switchThreadUser
	}
	if err := switchUser(execUser); err != nil {
		return err
	}
	if execUser.Uid == 0 {
		if err := LimitRootCapabilities(caps); err != nil {
			return err
		}
	}
	if !HasEnv(spec.Env, "HOME") {
		spec.Env = append(spec.Env, "HOME="+execUser.Home)
	}
	if err := unix.Chdir(spec.Cwd); err != nil {
		return StartErrorf(ExitCannotInvoke, "change to working directory %s: %w", spec.Cwd, err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err)
	}
	// Changing the effective uid cleared the parent-death signal
	// (prctl(2), PR_SET_PDEATHSIG); the container must still die with
	// its parent.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_PDEATHSIG)", err)
	}
	return resetIgnoredSignals()
}

// LookupUser resolves USER[:GROUP] in the image. An empty spec is uid 0
// looked up by id, so root gets its supplementary groups from /etc/group
// as in Docker.
func LookupUser(spec string) (*user.ExecUser, error) {
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	u, err := user.GetExecUserPath(spec, defaults, "/etc/passwd", "/etc/group")
	if err != nil {
		return nil, fmt.Errorf("resolve user %q in the image: %w", spec, err)
	}
	return u, nil
}

// SwitchUser sets the groups, gid and uid. Changing all uids from 0 to
// another user clears the permitted and effective capabilities, which is
// what Docker gives a non-root user.
func SwitchUser(u *user.ExecUser) error {
	groups := u.Sgids
	if groups == nil {
		groups = []int{}
	}
	if err := unix.Setgroups(groups); err != nil {
		return os.NewSyscallError("setgroups", err)
	}
	if err := unix.Setresgid(u.Gid, u.Gid, u.Gid); err != nil {
		return idError("gid", u.Gid, "/proc/self/gid_map", err)
	}
	if err := unix.Setresuid(u.Uid, u.Uid, u.Uid); err != nil {
		return idError("uid", u.Uid, "/proc/self/uid_map", err)
	}
	return nil
}

// switchThreadUser sets the groups, gid and uid of the calling thread only.
// It serves an init that executes the command from this thread next,
// because execve(2) gives the new program the calling thread's credentials
// and ends the other threads. Go's own functions change every thread,
// which stops and signals each of them. The init's goroutine stays locked
// to its thread (see Main).
func switchThreadUser(u *user.ExecUser) error {
	groups := make([]uint32, len(u.Sgids))
	for i, g := range u.Sgids {
		groups[i] = uint32(g)
	}
	var list unsafe.Pointer
	if len(groups) > 0 {
		list = unsafe.Pointer(&groups[0])
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(list), 0); errno != 0 {
		return os.NewSyscallError("setgroups", errno)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.Gid), uintptr(u.Gid), uintptr(u.Gid)); errno != 0 {
		return idError("gid", u.Gid, "/proc/self/gid_map", errno)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.Uid), uintptr(u.Uid), uintptr(u.Uid)); errno != 0 {
		return idError("uid", u.Uid, "/proc/self/uid_map", errno)
	}
	return nil
}

// idError explains EINVAL from setresuid or setresgid: the id is not
// mapped in the container's user namespace.
func idError(kind string, id int, mapFile string, err error) error {
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("set %s %d: %w", kind, id, err)
	}
	limit := "the mapped ids"
	if data, rerr := os.ReadFile(mapFile); rerr == nil {
		var total int64
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var inside, outside, size int64
			if _, serr := fmt.Sscan(line, &inside, &outside, &size); serr == nil {
				total += size
			}
		}
		limit = fmt.Sprintf("ids 0-%d", total-1)
	}
	return fmt.Errorf("%s %d is not mapped in the container's user namespace: use one of %s, or give your user more subordinate ids", kind, id, limit)
}

// ParseCapabilities turns names such as CAP_CHOWN into capabilities.
func ParseCapabilities(names []string) ([]capability.Cap, error) {
	byName := map[string]capability.Cap{}
	for _, c := range capability.ListKnown() {
		byName["CAP_"+strings.ToUpper(c.String())] = c
	}
	caps := make([]capability.Cap, 0, len(names))
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("unknown capability %q", n)
		}
		caps = append(caps, c)
	}
	return caps, nil
}

// dropBoundingSet limits the bounding set to caps and clears the
// inheritable and ambient sets. The ambient set still holds every
// capability from the start of the init, and would otherwise pass them to
// the container's process.
func dropBoundingSet(caps []capability.Cap) error {
	c, err := LoadCapabilities()
	if err != nil {
		return err
	}
	return ApplyBoundingSet(c, caps)
}

// LoadCapabilities reads the calling thread's capability sets. It reads
// /proc/self/status, so it must run where /proc shows the caller: not in
// gocker exec's helper once it joined the container's mount namespace.
func LoadCapabilities() (capability.Capabilities, error) {
	c, err := capability.NewPid2(0)
	if err != nil {
		return nil, fmt.Errorf("read capabilities: %w", err)
	}
	if err := c.Load(); err != nil {
		return nil, fmt.Errorf("read capabilities: %w", err)
	}
	return c, nil
}

// ApplyBoundingSet is dropBoundingSet with the sets read beforehand.
func ApplyBoundingSet(c capability.Capabilities, caps []capability.Cap) error {
	// Clear only acts on whole kinds (CAPS, BOUNDS, AMBS), so the
	// inheritable set is emptied with Unset.
	c.Clear(capability.BOUNDS | capability.AMBS)
	c.Unset(capability.INHERITABLE, capability.ListKnown()...)
	c.Set(capability.BOUNDING, caps...)
	if err := c.Apply(capability.CAPS | capability.BOUNDS | capability.AMBS); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	return nil
}

// LimitRootCapabilities leaves a root process exactly caps as permitted and
// effective capabilities.
func LimitRootCapabilities(caps []capability.Cap) error {
	c, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	c.Clear(capability.CAPS)
	c.Set(capability.PERMITTED|capability.EFFECTIVE, caps...)
	if err := c.Apply(capability.CAPS); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	return nil
}

// execProcess runs the container's command in place of the init. The
// command is looked up in the container's $PATH, not the init's.
func execProcess(spec *Spec) error {
	path, err := CommandPath(spec.Args, spec.Env)
	if err != nil {
		return err
	}
	// The filter comes last, after no_new_privs and the capabilities, so
	// that of the init's own system calls only execve(2) must pass it,
	// and the error report if execve fails.
	if err := installSpecSeccomp(spec, 0); err != nil {
		return err
	}
	err = unix.Exec(path, spec.Args, spec.Env)
	return ExecError(spec.Args[0], err)
}

// installSpecSeccomp installs the init's filters with flags: the bind
// notification filter when spec.NotifyBind is set, then the profile's.
// It reports the time they took as a debug line.
func installSpecSeccomp(spec *Spec, flags uint) error {
	start := time.Now()
	if spec.NotifyBind {
		if err := sendBindListener(flags); err != nil {
			return err
		}
	}
	if err := InstallSeccomp(spec.Seccomp, flags); err != nil {
		return err
	}
	if spec.Seccomp != nil {
		debugf(spec, "installed the seccomp filter of %d instructions in %v", spec.Seccomp.Len(), time.Since(start))
	}
	return nil
}

// InstallSeccomp installs filter on the calling thread, which must have
// no_new_privs set. A nil filter installs nothing.
func InstallSeccomp(filter *SeccompFilter, flags uint) error {
	if filter == nil {
		return nil
	}
	if err := filter.Install(flags); err != nil {
		return fmt.Errorf("install the seccomp filter: %w", err)
	}
	return nil
}

// CommandPath returns the executable of the command args, looked up in
// the PATH of env.
func CommandPath(args, env []string) (string, error) {
	if len(args) == 0 {
		return "", StartErrorf(ExitGockerError, "no command specified: the image has no Cmd or Entrypoint; give one after the image name")
	}
	return lookPath(args[0], envValue(env, "PATH"))
}

func ExecError(name string, err error) error {
	if errors.Is(err, unix.ENOENT) {
		return StartErrorf(ExitNotFound, "exec %q: %w", name, err)
	}
	return StartErrorf(ExitCannotInvoke, "exec %q: %w", name, err)
}

// lookPath finds file as execvp(3) does, in the container's filesystem.
func lookPath(file, pathEnv string) (string, error) {
	if strings.Contains(file, "/") {
		if err := checkExecutable(file); err != nil {
			return "", ExecError(file, err)
		}
		return file, nil
	}
	var firstErr error
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		path := filepath.Join(dir, file)
		err := checkExecutable(path)
		if err == nil {
			return path, nil
		}
		if firstErr == nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", ExecError(file, firstErr)
	}
	return "", StartErrorf(ExitNotFound, "exec %q: executable file not found in $PATH", file)
}

func checkExecutable(path string) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EISDIR
	}
	return unix.Access(path, unix.X_OK)
}

func HasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}
