package userns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// Rootless reports whether the calling process needs a user namespace to act
// as root: true for every user but real root.
func Rootless() bool { return os.Geteuid() != 0 }

// Identity is the calling user as the subordinate id files key it.
type Identity struct {
	Name string
	UID  int
	GID  int
}

// CurrentIdentity returns the calling user. A uid without a passwd entry
// (possible in CI containers) has an empty Name and is matched by number.
func CurrentIdentity() Identity {
	id := Identity{UID: os.Getuid(), GID: os.Getgid()}
	if u, err := user.CurrentUser(); err == nil {
		id.Name = u.Name
	}
	return id
}

func (id Identity) String() string {
	if id.Name == "" {
		return fmt.Sprintf("uid %d", id.UID)
	}
	return fmt.Sprintf("%s (uid %d)", id.Name, id.UID)
}

// LoadMapping builds the mapping of the calling user from /etc/subuid and
// /etc/subgid: container id 0 is the caller and 1..N are its subordinate
// ranges. An error names the files, the user and one command that fixes
// both files.
func LoadMapping() (Mapping, error) {
	id := CurrentIdentity()
	uidEntries, err := readEntries(SubUIDFile)
	if err != nil {
		return Mapping{}, err
	}
	gidEntries, err := readEntries(SubGIDFile)
	if err != nil {
		return Mapping{}, err
	}
	uids, uidErr := buildMaps(SubUIDFile, uidEntries, id, id.UID)
	gids, gidErr := buildMaps(SubGIDFile, gidEntries, id, id.GID)
	if uidErr == nil && gidErr == nil {
		return Mapping{UIDs: uids, GIDs: gids}, nil
	}
	return Mapping{}, mappingError(id, uidErr, gidErr, append(uidEntries, gidEntries...))
}

func readEntries(file string) ([]SubIDEntry, error) {
	entries, err := readSubIDFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return entries, nil
}

// buildMaps returns the maps for one file, or the problem with its ranges.
func buildMaps(file string, entries []SubIDEntry, id Identity, hostID int) ([]IDMap, error) {
	ranges := RangesFor(entries, id.Name, id.UID)
	if len(ranges) == 0 {
		return nil, fmt.Errorf("%w for %s in %s", ErrNoSubIDs, id, file)
	}
	maps, err := BuildMaps(hostID, ranges)
	if err != nil {
		return nil, fmt.Errorf("%s for %s: %w", file, id, err)
	}
	if n := Size(maps) - 1; n < MinSubIDs-1 {
		return nil, fmt.Errorf("%w: %s gives %s %d subordinate ids, and containers need at least %d (ids 1-%d)",
			ErrRangeTooSmall, file, id, n, MinSubIDs-1, MinSubIDs-1)
	}
	return maps, nil
}

// mappingError joins the problems of both files and adds the command that
// gives the user a free range in both.
func mappingError(id Identity, uidErr, gidErr error, entries []SubIDEntry) error {
	r := SuggestFreeRange(entries, MinSubIDs)
	var fix string
	if id.Name == "" {
		fix = fmt.Sprintf("as root, add the line \"%d:%d:%d\" to %s and %s", id.UID, r.Start, r.Count, SubUIDFile, SubGIDFile)
	} else {
		fix = fmt.Sprintf("run \"sudo usermod --add-subuids %d-%d --add-subgids %d-%d %s\"", r.Start, r.End()-1, r.Start, r.End()-1, id.Name)
	}
	switch {
	case uidErr != nil && gidErr != nil:
		return fmt.Errorf("%w, and %w: %s", uidErr, gidErr, fix)
	case uidErr != nil:
		return fmt.Errorf("%w: %s", uidErr, fix)
	}
	return fmt.Errorf("%w: %s", gidErr, fix)
}

// WriteMaps writes the uid and gid maps of process pid with newuidmap and
// newgidmap, which run concurrently. The process must be in a new user
// namespace and must not have exited.
func WriteMaps(ctx context.Context, pid int, m Mapping) error {
	var wg sync.WaitGroup
	var uidErr, gidErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		uidErr = runMapTool(ctx, "newuidmap", pid, m.UIDs)
	}()
	gidErr = runMapTool(ctx, "newgidmap", pid, m.GIDs)
	wg.Wait()
	return errors.Join(uidErr, gidErr)
}

func runMapTool(ctx context.Context, tool string, pid int, maps []IDMap) error {
	path, err := exec.LookPath(tool)
	if err != nil {
		return fmt.Errorf("%w: %s not found in $PATH: install the uidmap package (Debian, Ubuntu) or shadow-utils", ErrMapToolMissing, tool)
	}
	args := MapToolArgs(pid, maps)
	cmd := exec.CommandContext(ctx, path, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		msg := fmt.Sprintf("%s %s: %v: %s", path, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
		if perr := checkMapToolPrivileged(path); perr != nil {
			return fmt.Errorf("%s: %w", msg, perr)
		}
		return errors.New(msg)
	}
	return nil
}

// checkMapToolPrivileged returns an error with the fix when path has neither
// the setuid bit with root as owner nor file capabilities.
func checkMapToolPrivileged(path string) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_ISUID != 0 && st.Uid == 0 {
		return nil
	}
	if n, err := unix.Getxattr(path, "security.capability", nil); err == nil && n > 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: run \"sudo chmod u+s %s\" or \"sudo setcap cap_setuid+ep %s\" (cap_setgid for newgidmap)",
		ErrMapToolNotPrivileged, path, path, path)
}

// CheckMapTool reports whether tool is installed and privileged enough to
// write maps, with the fix when it is not.
func CheckMapTool(tool string) error {
	path, err := exec.LookPath(tool)
	if err != nil {
		return fmt.Errorf("%w: %s not found in $PATH: install the uidmap package (Debian, Ubuntu) or shadow-utils", ErrMapToolMissing, tool)
	}
	return checkMapToolPrivileged(path)
}
