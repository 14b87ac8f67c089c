package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/gocker/gocker/hostcheck"
	"github.com/gocker/gocker/userns"
)

// runtimeDirState is the input of runtimeDirResult.
type runtimeDirState struct {
	rootless bool
	// user is the calling user's name, or the uid as a number.
	user     string
	uid, gid int
	// dir is $XDG_RUNTIME_DIR, empty when unset.
	dir     string
	exists  bool
	owner   int
	mode    fs.FileMode
	statErr error
	// loginDirUsable is true when /run/user/UID exists and belongs to the
	// user, so that exporting it is the whole fix.
	loginDirUsable bool
	// systemdBooted is true when systemd is the init system, so that
	// systemd-logind creates /run/user/UID for a lingering user.
	systemdBooted bool
	// stateDir is the directory of runtime state as the commands resolve
	// it (see runtimeStateDir), and stateDirErr why they cannot.
	stateDir    string
	stateDirErr error
	// gockerDirSet is true when $GOCKER_RUNTIME_DIR chooses stateDir.
	gockerDirSet bool
}

// runtimeDirResult decides whether $XDG_RUNTIME_DIR can hold the user's
// runtime state ($XDG_RUNTIME_DIR/gocker): it must be set, absolute, owned
// by the user and mode 0700, as the XDG Base Directory Specification
// requires. Root keeps runtime state in /run/gocker instead, and
// $GOCKER_RUNTIME_DIR chooses the directory for everyone.
func runtimeDirResult(s runtimeDirState) hostcheck.Result {
	res := hostcheck.Result{Check: "runtime-dir", Status: hostcheck.Warn}
	if s.stateDirErr != nil {
		res.Detail = s.stateDirErr.Error()
		res.Fix = []string{"unset GOCKER_RUNTIME_DIR"}
		return res
	}
	if !s.rootless {
		res.Status = hostcheck.Info
		res.Detail = "root keeps runtime state in " + s.stateDir
		if s.gockerDirSet {
			res.Detail += " ($GOCKER_RUNTIME_DIR)"
		}
		return res
	}
	if s.dir == "" {
		// gocker works without it: see netStateDir and the bus lookup of
		// package cgroupv2.
		res.Status = hostcheck.Info
		res.Detail = unsetRuntimeDirDetail(s)
		return res
	}
	res.Detail = runtimeDirProblem(s)
	switch {
	case res.Detail == "":
		res.Status = hostcheck.OK
		res.Detail = fmt.Sprintf("$XDG_RUNTIME_DIR is %s, owned by %s, mode 0700", s.dir, s.user)
		if s.gockerDirSet {
			res.Detail += "; gocker keeps runtime state in " + s.stateDir + " ($GOCKER_RUNTIME_DIR)"
		}
	case s.exists && s.owner == s.uid:
		res.Fix = []string{"chmod 0700 " + hostcheck.ShellQuote(s.dir)}
	default:
		res.Fix = runtimeDirFix(s)
	}
	return res
}

// unsetRuntimeDirDetail returns what an unset $XDG_RUNTIME_DIR changes: the
// place of the runtime state, and where rootless resource limits look for
// the user's bus.
func unsetRuntimeDirDetail(s runtimeDirState) string {
	detail := "$XDG_RUNTIME_DIR is not set (su, sudo and cron sessions do not set it), so gocker keeps runtime state in " + s.stateDir
	if !s.systemdBooted {
		return detail + fmt.Sprintf("; rootless resource limits would look for the user's bus at /run/user/%d/bus, but this host runs no systemd user manager (see systemd-user)", s.uid)
	}
	return detail + fmt.Sprintf(" and rootless resource limits look for the user's bus at /run/user/%d/bus", s.uid)
}

// runtimeDirProblem returns what makes a set $XDG_RUNTIME_DIR unusable, or
// "" when nothing does.
func runtimeDirProblem(s runtimeDirState) string {
	switch {
	case !filepath.IsAbs(s.dir):
		return fmt.Sprintf("$XDG_RUNTIME_DIR is %q, not an absolute path", s.dir)
	case !s.exists:
		return fmt.Sprintf("$XDG_RUNTIME_DIR is %s, which does not exist (%v)", s.dir, s.statErr)
	case s.owner != s.uid:
		return fmt.Sprintf("$XDG_RUNTIME_DIR is %s, owned by uid %d, not %s", s.dir, s.owner, s.user)
	case s.mode.Perm() != 0o700:
		return fmt.Sprintf("$XDG_RUNTIME_DIR is %s with mode %04o, not 0700, so other users can reach the runtime state", s.dir, s.mode.Perm())
	}
	return ""
}

// runtimeDirFix points $XDG_RUNTIME_DIR at /run/user/UID, creating that
// directory first when it is missing.
func runtimeDirFix(s runtimeDirState) []string {
	loginDir := fmt.Sprintf("/run/user/%d", s.uid)
	export := "export XDG_RUNTIME_DIR=" + loginDir
	switch {
	case s.loginDirUsable:
		return []string{export}
	case s.systemdBooted:
		return []string{"sudo loginctl enable-linger " + hostcheck.ShellQuote(s.user), export}
	}
	// Without systemd-logind nothing creates the directory. /run is a
	// tmpfs, so the directory lasts until reboot.
	return []string{fmt.Sprintf("sudo install -d -m 0700 -o %d -g %d %s", s.uid, s.gid, loginDir), export}
}

func checkRuntimeDir() hostcheck.Result {
	id := userns.CurrentIdentity()
	s := runtimeDirState{
		rootless: userns.Rootless(), user: id.Name, uid: id.UID, gid: id.GID,
		dir: os.Getenv("XDG_RUNTIME_DIR"), systemdBooted: pathExists("/run/systemd/system"),
	}
	if s.user == "" {
		s.user = strconv.Itoa(id.UID)
	}
	gockerDir := os.Getenv("GOCKER_RUNTIME_DIR")
	s.gockerDirSet = gockerDir != ""
	s.stateDir, _, s.stateDirErr = runtimeStateDir(gockerDir, s.dir, s.rootless, id.UID)
	s.owner, s.mode, s.statErr = statOwner(s.dir)
	s.exists = s.dir != "" && !errors.Is(s.statErr, fs.ErrNotExist)
	owner, _, err := statOwner(fmt.Sprintf("/run/user/%d", id.UID))
	s.loginDirUsable = err == nil && owner == id.UID
	return runtimeDirResult(s)
}

func statOwner(path string) (int, fs.FileMode, error) {
	if path == "" {
		return -1, 0, fs.ErrNotExist
	}
	fi, err := os.Stat(path)
	if err != nil {
		return -1, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, fi.Mode(), nil
	}
	return int(st.Uid), fi.Mode(), nil
}

func pathExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
