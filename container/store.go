package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/gocker/gocker/internal/lockfile"
	"github.com/gocker/gocker/overlay/volatile"
	"github.com/gocker/gocker/userns"
)

// Store keeps container records under ROOT/containers, and what it
// derives once for all containers in ROOT:
//
//	containers/ID/config.json    the Container record, written once
//	containers/ID/state.json     its State, rewritten by the monitor
//	containers/ID/monitor.lock   held (flock) by the monitor while it lives
//	containers/ID/json.log       the container's output (see jsonlog.go),
//	                             json.log.1 ... when rotated
//	containers/ID/monitor.log    the detached monitor's own log
//	containers/ID/stop-requested exists while a user's stop (or rm -f) ends
//	                             the container, so the monitor does not
//	                             restart it
//	containers/ID/upper, work    overlay upper and work directories
//	containers/ID/merged         mount point, used only in the container's
//	                             own mount namespace
//	containers/names/NAME        symlink to ID; creating it reserves NAME
//	containers/.tmp-ID           a record being created
//	containers/.rm-ID            a record being removed
//	cache/seccomp/KEY            compiled seccomp filters (seccompcache.go),
//	                             which any command may delete
//	mountpoints-HASH             the layer of mount points for the
//	                             generated /etc files, below every
//	                             container's image layers
//
// A record appears by renaming its complete .tmp- directory and disappears
// by renaming it to .rm- before its files are deleted, so a gocker killed at
// any point leaves either a whole record or a dot-directory that lists skip
// and the next removal deletes.
type Store struct {
	dir string
}

// OpenStore opens the container store under root, creating it.
func OpenStore(root string) (*Store, error) {
	dir := filepath.Join(root, "containers")
	if err := os.MkdirAll(filepath.Join(dir, "names"), 0o700); err != nil {
		return nil, fmt.Errorf("create container store: %w", err)
	}
	markTopDir(dir)
	return &Store{dir: dir}, nil
}

// Dir returns the directory of container id.
func (s *Store) Dir(id string) string { return filepath.Join(s.dir, id) }

func (s *Store) namePath(name string) string { return filepath.Join(s.dir, "names", name) }

// Create writes a new record for c with status created, reserving its name
// (or choosing a free random one when c.Name is empty).
// A record without state.json is in the created state.
func (s *Store) Create(c *Container) (retErr error) {
	tmp := filepath.Join(s.dir, ".tmp-"+c.ID)
	defer func() {
		if retErr != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := makeDirs(tmp); err != nil {
		return err
	}
	// The .tmp- directory exists before the name's symlink, so that a
	// concurrent Create finds the name taken, not stale.
	if err := s.reserveName(c); err != nil {
		return err
	}
	c.State = State{Status: StatusCreated}
	// The directory is not visible under its final name yet, so the
	// record is written in place.
	data, err := json.MarshalIndent(c, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, "config.json"), data, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, s.Dir(c.ID))
	}
	if err != nil {
		_ = os.Remove(s.namePath(c.Name))
		return fmt.Errorf("create container record: %w", err)
	}
	return nil
}

func makeDirs(dir string) error {
	for _, sub := range []string{"", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("create container directory: %w", err)
		}
	}
	// The upper directory is the container's root directory as the
	// overlay shows it: 0755 like any root filesystem.
	return os.Chmod(filepath.Join(dir, "upper"), 0o755)
}

// reserveName creates the name's symlink, choosing a free random name when
// c has none. The symlink may point at a record that does not exist yet.
func (s *Store) reserveName(c *Container) error {
	if c.Name != "" {
		return s.link(c.Name, c.ID)
	}
	for attempt := 0; attempt < 20; attempt++ {
		name := randomName()
		if attempt >= 10 {
			name = fmt.Sprintf("%s_%d", name, attempt)
		}
		err := s.link(name, c.ID)
		if err == nil {
			c.Name = name
			return nil
		}
		if !errors.Is(err, ErrNameInUse) {
			return err
		}
	}
	return fmt.Errorf("no free random container name: pass --name")
}

// link creates the name symlink. A symlink left by a record that no longer
// exists (a killed gocker) is replaced, under a lock so that two creators
// cannot both replace it.
func (s *Store) link(name, id string) error {
	path := s.namePath(name)
	err := os.Symlink(id, path)
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	lock, err := lockfile.Exclusive(context.Background(), filepath.Join(s.dir, "names.lock"))
	if err != nil {
		return err
	}
	defer lock.Unlock()
	owner, err := os.Readlink(path)
	if err == nil && (exists(s.Dir(owner)) || exists(filepath.Join(s.dir, ".tmp-"+owner))) {
		return fmt.Errorf("%w: %q is used by container %.12s: remove that container or choose another name", ErrNameInUse, name, owner)
	}
	_ = os.Remove(path)
	return os.Symlink(id, path)
}

// Rename gives container c the name newName, which must be free, and
// frees its old name. A running container keeps running, and its
// /etc/hosts keeps the old name, as in Docker.
func (s *Store) Rename(c *Container, newName string) error {
	// Docker shows names as "/NAME" and accepts them in that form.
	newName = strings.TrimPrefix(newName, "/")
	if err := ValidateName(newName); err != nil {
		return err
	}
	if newName == c.Name {
		return fmt.Errorf("container %.12s is already named %q", c.ID, newName)
	}
	if err := s.link(newName, c.ID); err != nil {
		return err
	}
	// config.json contains no state, so no other process writes it meanwhile.
	var rec Container
	path := filepath.Join(s.Dir(c.ID), "config.json")
	err := atomicfile.ReadJSON(path, &rec)
	if err == nil {
		rec.Name = newName
		err = atomicfile.WriteJSON(path, &rec, 0o600)
	}
	if err != nil {
		_ = os.Remove(s.namePath(newName))
		return fmt.Errorf("rename container %s: %w", c.Name, err)
	}
	if owner, err := os.Readlink(s.namePath(c.Name)); err == nil && owner == c.ID {
		_ = os.Remove(s.namePath(c.Name))
	}
	c.Name = newName
	return nil
}

// PruneNames removes the names whose container no longer exists, which a
// killed gocker can leave behind, and returns how many it removed.
func (s *Store) PruneNames() (int, error) {
	lock, err := lockfile.Exclusive(context.Background(), filepath.Join(s.dir, "names.lock"))
	if err != nil {
		return 0, err
	}
	defer lock.Unlock()
	entries, err := os.ReadDir(filepath.Join(s.dir, "names"))
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		owner, err := os.Readlink(s.namePath(e.Name()))
		if err != nil || exists(s.Dir(owner)) || exists(filepath.Join(s.dir, ".tmp-"+owner)) {
			continue
		}
		if os.Remove(s.namePath(e.Name())) == nil {
			removed++
		}
	}
	return removed, nil
}

// Get finds a container by full id, unique id prefix or name.
func (s *Store) Get(ref string) (*Container, error) {
	if ref == "" || strings.ContainsAny(ref, "/") || strings.HasPrefix(ref, ".") {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, ref)
	}
	if id, err := os.Readlink(s.namePath(ref)); err == nil {
		if c, err := s.load(id); err == nil {
			return c, nil
		}
	}
	if c, err := s.load(ref); err == nil {
		return c, nil
	}
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	var match string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			if match != "" {
				return nil, fmt.Errorf("%w: %q matches %.12s and %.12s", ErrAmbiguous, ref, match, id)
			}
			match = id
		}
	}
	if match == "" {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return s.load(match)
}

func (s *Store) ids() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == 64 {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

func (s *Store) load(id string) (*Container, error) {
	var c Container
	if err := atomicfile.ReadJSON(filepath.Join(s.Dir(id), "config.json"), &c); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, err
	}
	c.State = State{Status: StatusCreated}
	if err := atomicfile.ReadJSON(filepath.Join(s.Dir(id), "state.json"), &c.State); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		// No state: a created container, or one whose removal renamed
		// the record between the two reads.
		if !exists(s.Dir(id)) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
	}
	s.reconcile(&c)
	if err := s.loadNetworkSettings(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// List returns every container, newest first.
func (s *Store) List() ([]*Container, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	var list []*Container
	for _, id := range ids {
		c, err := s.load(id)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Created.After(list[j].Created) })
	return list, nil
}

// SaveState writes c.State.
func (s *Store) SaveState(c *Container) error {
	return atomicfile.WriteJSON(filepath.Join(s.Dir(c.ID), "state.json"), &c.State, 0o600)
}

// Remove deletes a stopped container's record and files. Files that the
// container created with other owners are removed as root in the user
// namespace.
func (s *Store) Remove(ctx context.Context, c *Container) error {
	lock, err := s.lockStopped(ctx, c, lockProbeWait)
	if err != nil {
		return fmt.Errorf("remove container %s: %w: stop it first, or use rm -f", c.Name, ErrRunning)
	}
	return s.removeLocked(ctx, c, lock)
}

// RemoveAfterMonitor removes a container as Remove does, but first waits
// for a monitor that is still finishing. The monitor of an --rm container
// removes the container itself after a failed start, and on a loaded
// machine that took longer than the lockProbeWait of Remove. A container
// that the monitor removed meanwhile gives an error matching
// fs.ErrNotExist.
func (s *Store) RemoveAfterMonitor(ctx context.Context, c *Container) error {
	lock, err := s.lockStopped(ctx, c, monitorExitWait)
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err != nil {
		return fmt.Errorf("remove container %s: %w: stop it first, or use rm -f", c.Name, ErrRunning)
	}
	return s.removeLocked(ctx, c, lock)
}

// removeLocked deletes the record of c, whose monitor lock the caller
// holds, and releases the lock.
func (s *Store) removeLocked(ctx context.Context, c *Container, lock *lockfile.Lock) error {
	trash := filepath.Join(s.dir, ".rm-"+c.ID)
	err := os.Rename(s.Dir(c.ID), trash)
	lock.Unlock()
	if err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	// gocker rename may have renamed the container after c was read (a
	// monitor or a foreground run holds c for the container's life), so
	// the record's own name goes too.
	names := []string{c.Name}
	// Only the name is read: decoding the whole record builds decoders
	// for all its types, which this process may not have needed before.
	var rec struct{ Name string }
	if atomicfile.ReadJSON(filepath.Join(trash, "config.json"), &rec) == nil && rec.Name != c.Name {
		names = append(names, rec.Name)
	}
	for _, name := range names {
		if owner, err := os.Readlink(s.namePath(name)); err == nil && owner == c.ID {
			_ = os.Remove(s.namePath(name))
		}
	}
	return s.removeTrash(ctx)
}

// exitsDir returns the directory of the exit statuses of containers that
// their monitor removed (--rm), one file per container id, for gocker wait.
func (s *Store) exitsDir() string { return filepath.Join(s.dir, "exits") }

// exitKeep is how long an --rm container's exit status outlives it.
const exitKeep = time.Minute

// keepExitCode saves the exit status of c, which its monitor is about to
// remove, for [Store.Wait], and deletes the statuses that expired. A
// failure only costs a waiter the status. A foreground gocker run --rm
// keeps none, because its own command prints the status.
func (s *Store) keepExitCode(c *Container) {
	s.pruneExitCodes()
	if err := os.MkdirAll(s.exitsDir(), 0o700); err != nil {
		return
	}
	_ = atomicfile.WriteFile(filepath.Join(s.exitsDir(), c.ID), []byte(strconv.Itoa(c.State.ExitCode)), 0o600)
}

// removedExitCode returns the exit status that keepExitCode saved for id.
func (s *Store) removedExitCode(id string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(s.exitsDir(), id))
	if err != nil {
		return 0, false
	}
	code, err := strconv.Atoi(string(data))
	return code, err == nil
}

// pruneExitCodes deletes the saved exit statuses older than exitKeep.
func (s *Store) pruneExitCodes() {
	entries, err := os.ReadDir(s.exitsDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > exitKeep {
			_ = os.Remove(filepath.Join(s.exitsDir(), e.Name()))
		}
	}
}

// removeTrash deletes every record left in removal, including those of a
// killed gocker.
func (s *Store) removeTrash(ctx context.Context) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".rm-") {
			dir := filepath.Join(s.dir, e.Name())
			errs = append(errs, removeRecord(ctx, dir))
		}
	}
	return errors.Join(errs...)
}

// removeRecord deletes the container directory dir, each subdirectory on
// a goroutine of its own. A foreground run --rm waits for the removal,
// and each deletion costs tens of microseconds of CPU on ext4 without a
// journal, while the other CPU is idle.
func removeRecord(ctx context.Context, dir string) error {
	// The user namespace helper that RemoveAll falls back to would
	// delete the marker too, but costs a process.
	_ = volatile.ClearMarker(filepath.Join(dir, "work"))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return userns.RemoveAll(ctx, dir)
	}
	var wg sync.WaitGroup
	for _, e := range entries {
		if e.IsDir() {
			path := filepath.Join(dir, e.Name())
			wg.Go(func() { _ = userns.RemoveAll(ctx, path) })
		}
	}
	wg.Wait()
	// This pass deletes the files and anything that a subdirectory's
	// removal left, and reports the error.
	return userns.RemoveAll(ctx, dir)
}

// Lock takes the container's monitor lock, which its monitor holds for as
// long as the container runs; see [Store.Running].
func (s *Store) Lock(ctx context.Context, c *Container) (*lockfile.Lock, error) {
	return lockfile.Exclusive(ctx, filepath.Join(s.Dir(c.ID), "monitor.lock"))
}

// TryLock takes the monitor lock without waiting; it fails while a monitor
// runs the container.
func (s *Store) TryLock(c *Container) (*lockfile.Lock, error) {
	return lockfile.TryExclusive(s.lockPath(c.ID))
}

func (s *Store) lockPath(id string) string { return filepath.Join(s.Dir(id), "monitor.lock") }

// lockStopped takes the monitor lock of a container that no monitor runs.
// It waits up to wait, because a gocker ps that checks the lock at the
// same moment holds it shared for a few microseconds, and a monitor that
// recorded the container's exit still holds it while it cleans up.
func (s *Store) lockStopped(ctx context.Context, c *Container, wait time.Duration) (*lockfile.Lock, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return lockfile.Exclusive(ctx, s.lockPath(c.ID))
}

// Waits of lockStopped: gocker rm waits only for other commands' checks,
// a new monitor also for an old one that is about to exit.
const (
	lockProbeWait   = 200 * time.Millisecond
	monitorExitWait = 10 * time.Second
)

// reconcile corrects the recorded state with what the host shows: a state
// that says running or restarting while no monitor holds the lock belongs
// to a monitor that died (SIGKILL, reboot) without recording the exit,
// and its container died with it through PR_SET_PDEATHSIG. The first
// command that finds this writes the corrected state under the monitor
// lock, so that later commands show the same FinishedAt.
func (s *Store) reconcile(c *Container) {
	if c.State.Status != StatusRunning && c.State.Status != StatusRestarting {
		return
	}
	if lockfile.Held(s.lockPath(c.ID)) {
		return
	}
	// The monitor's death leaves no trace with its time: the lock and
	// state files keep the mtimes of their last writes, and the
	// container's init, which died with the monitor, had no parent left
	// to observe its exit. The time of this check is the best bound.
	detected := time.Now().UTC()
	lock, err := lockfile.TryExclusive(s.lockPath(c.ID))
	if err != nil {
		// Another command holds the lock for a moment, or a new monitor
		// took it since the check: correct only this command's copy.
		c.State = reconcileState(c.State, false, detected)
		return
	}
	defer lock.Unlock()

	// Another command may have written the correction since the load.
	var st State
	if err := atomicfile.ReadJSON(filepath.Join(s.Dir(c.ID), "state.json"), &st); err != nil {
		c.State = reconcileState(c.State, false, detected)
		return
	}
	c.State = reconcileState(st, false, detected)
	if st.Status == StatusRunning || st.Status == StatusRestarting {
		// A command that may not write the record (a read-only store)
		// still shows the corrected state.
		_ = s.SaveState(c)
	}
}

// reconcileState returns st corrected for whether its monitor still runs.
// A dead monitor's container exited at detected at the latest, and not
// before it started, so FinishedAt becomes detected (or StartedAt, when the
// clock went back). A restarting container keeps the FinishedAt of the
// exit that its monitor recorded.
func reconcileState(st State, monitorAlive bool, detected time.Time) State {
	if monitorAlive || (st.Status != StatusRunning && st.Status != StatusRestarting) {
		return st
	}
	if st.Status == StatusRunning || st.FinishedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		st.FinishedAt = detected
		if detected.Before(st.StartedAt) {
			st.FinishedAt = st.StartedAt
		}
	}
	if st.Status == StatusRunning {
		st.ExitCode = signalExitOffset + 9
	}
	st.Status = StatusExited
	st.Error = "the container's monitor exited without recording the exit status"
	st.Pid, st.PidStartTime = 0, 0
	st.MonitorPid, st.MonitorStartTime = 0, 0
	return st
}

func (s *Store) stopRequestPath(id string) string { return filepath.Join(s.Dir(id), "stop-requested") }

// requestStop records that a user stops c, which ends its restart policy.
func (s *Store) requestStop(c *Container) error {
	return os.WriteFile(s.stopRequestPath(c.ID), nil, 0o600)
}

func (s *Store) stopRequested(c *Container) bool { return exists(s.stopRequestPath(c.ID)) }

func (s *Store) clearStopRequest(c *Container) { _ = os.Remove(s.stopRequestPath(c.ID)) }

func (s *Store) restartRequestPath(id string) string {
	return filepath.Join(s.Dir(id), "restart-requested")
}

// TakeRestartRequest reports whether gocker restart is stopping c, and
// clears the request. The monitor of an --rm container keeps it if so.
func (s *Store) TakeRestartRequest(c *Container) bool {
	return os.Remove(s.restartRequestPath(c.ID)) == nil
}

// exists reports whether path exists; errors other than "not found"
// count as existing.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
