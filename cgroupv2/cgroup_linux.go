package cgroupv2

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

	"golang.org/x/sys/unix"
)

// Options configure [Create].
type Options struct {
	// ID is the container's id; the cgroup is named after it.
	ID string
	// Pid is the host pid of the process to move into the cgroup, with
	// its threads.
	Pid       int
	Resources Resources
	// Rootless asks the user's systemd manager for a delegated scope
	// instead of writing the cgroup filesystem directly.
	Rootless bool
	// Scope is the rootless scope started ahead of time by [StartScope]
	// for this ID and Pid; without it, Create starts the scope itself.
	Scope *PendingScope
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// Cgroup is the cgroup of one container, created by [Create].
type Cgroup interface {
	// OOMKilled reports whether the kernel's OOM killer killed a process
	// of the cgroup. Call it after the container exited and before
	// Remove.
	OOMKilled() bool
	// Dirs returns the cgroup directories that hold the container's
	// processes, each with a cgroup.procs file: one on cgroup v2, one per
	// joined hierarchy on cgroup v1.
	Dirs() []string
	// Remove deletes the cgroups that Create made. The cgroup must have
	// no processes left.
	Remove(ctx context.Context) error
}

// Create makes a cgroup for a container with opts.Resources, moves
// opts.Pid into it and returns it. Rootless on cgroup v2 it asks the
// user's systemd manager for a transient scope with Delegate=yes; as root
// it creates gocker/ID under the cgroup v2 root, or gocker-ID under the
// caller's cgroup of each cgroup v1 hierarchy on hybrid and legacy hosts.
// It fails with an *UnsupportedError when the host cannot enforce a
// limit, and leaves nothing behind when it fails.
func Create(ctx context.Context, opts Options) (Cgroup, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := VerifyID(opts.ID); err != nil {
		return nil, err
	}
	mode, err := DetectMode()
	if err != nil {
		return nil, err
	}
	switch {
	case mode == ModeUnified && opts.Rootless:
		return createScope(ctx, opts)
	case mode == ModeUnified:
		return createUnified(opts)
	case opts.Rootless:
		s := readState()
		s.Rootless = true
		return nil, CheckSupport(s, opts.Resources)
	case mode == ModeUnknown:
		s := State{Mode: mode}
		readHiddenCgroups(&s)
		return nil, CheckSupport(s, opts.Resources)
	}
	return createV1(opts)
}

// VerifyID checks that id can name a cgroup: it becomes a directory name
// and part of a systemd unit name, so only letters, digits, '-' and '_'
// are allowed.
func VerifyID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("invalid cgroup id %q", id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("invalid cgroup id %q: only letters, digits, '-' and '_' are allowed", id)
		}
	}
	return nil
}

// applyWrites writes values into the cgroup directory dir, in order.
func applyWrites(dir string, writes []write) error {
	for _, w := range writes {
		if err := writeFile(filepath.Join(dir, w.file), w.value); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes one value to an existing cgroup interface file.
func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return nil
}

// addProcess moves process pid, with its threads, into the cgroup dir.
func addProcess(dir string, pid int) error {
	return writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid))
}

// removeDir deletes the empty cgroup directory dir. rmdir(2) fails with
// EBUSY for a short while after the last process exited, until the kernel
// has released it, so it is retried for up to about a second. A
// directory that is already gone counts as removed.
func removeDir(ctx context.Context, dir string) error {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || attempt == 8 {
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
		select {
		case <-ctx.Done():
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// staleAge is how long an empty gocker cgroup must exist before [Create]
// removes it as stale. Create fills a cgroup within milliseconds of making
// it, so only a cgroup whose container is gone stays empty this long.
const staleAge = time.Minute

// removeStale removes the cgroups in parent whose names start with prefix,
// that have no processes and are older than staleAge: those left by a
// gocker that was killed before it could remove them. rmdir(2) fails, and
// the cgroup stays, while it has children or processes.
func removeStale(parent, prefix string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleAge {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err == nil && len(strings.TrimSpace(string(procs))) == 0 {
			_ = unix.Rmdir(dir)
		}
	}
}

// readKeyedFile reads a flat keyed file such as memory.events or
// memory.oom_control: one "key value" pair a line.
func readKeyedFile(path string) (map[string]uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	values := map[string]uint64{}
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64); err == nil {
			values[key] = n
		}
	}
	return values, nil
}
