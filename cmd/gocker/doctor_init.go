package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/hostcheck"
	"golang.org/x/sys/unix"
)

// initBinaryState is the input of initBinaryResult.
type initBinaryState struct {
	// gockerID is gocker's own build id, empty for a plain go build.
	gockerID string
	path     string
	// statErr, execErr and openErr tell whether the file exists, may be
	// executed and can be read.
	statErr, execErr, openErr error
	// dirWritable is true when the user may remove the file.
	dirWritable bool
	// initID is the output of "gocker-init --build-id", and runErr the
	// error of that command.
	initID string
	runErr error
}

// checkInitBinary looks at the gocker-init next to gocker. It only reads
// and runs the file with --build-id.
func checkInitBinary(ctx context.Context) hostcheck.Result {
	s := initBinaryState{gockerID: initproc.BuildID}
	path, err := container.InitBinaryPath()
	if err != nil {
		s.statErr = err
		return initBinaryResult(s)
	}
	s.path = path
	if _, s.statErr = os.Stat(path); s.statErr != nil {
		return initBinaryResult(s)
	}
	s.dirWritable = unix.Access(filepath.Dir(path), unix.W_OK) == nil
	if err := unix.Access(path, unix.X_OK); err != nil {
		s.execErr = &fs.PathError{Op: "access", Path: path, Err: err}
		return initBinaryResult(s)
	}
	f, err := os.Open(path)
	if err != nil {
		s.openErr = err
		return initBinaryResult(s)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--build-id").Output()
	s.initID, s.runErr = strings.TrimSpace(string(out)), err
	return initBinaryResult(s)
}

// initBinaryResult decides whether containers start from gocker-init, from
// gocker itself, or not at all.
func initBinaryResult(s initBinaryState) hostcheck.Result {
	res := hostcheck.Result{Check: "init-binary", Status: hostcheck.Info}
	switch {
	case s.gockerID == "":
		res.Detail = "gocker was built without a build id (plain go build), so it is its own container init"
	case errors.Is(s.statErr, fs.ErrNotExist):
		res.Detail = fmt.Sprintf("no %s: gocker is its own container init", s.path)
	case s.statErr != nil:
		res.Detail = fmt.Sprintf("cannot find gocker-init: %v: gocker is its own container init", s.statErr)
	case s.execErr != nil:
		res.Status = hostcheck.Warn
		res.Detail = fmt.Sprintf("%s may not be executed (%v), so gocker is its own container init", s.path, s.execErr)
		res.Fix = []string{"sudo chmod a+rx " + hostcheck.ShellQuote(s.path)}
	case s.openErr != nil:
		res.Status = hostcheck.Warn
		res.Detail = fmt.Sprintf("%s cannot be read (%v), so gocker is its own container init", s.path, s.openErr)
		res.Fix = []string{"sudo chmod a+rx " + hostcheck.ShellQuote(s.path)}
	case s.runErr != nil:
		res.Status = hostcheck.Fail
		res.Detail = fmt.Sprintf("%s --build-id failed (%v): containers cannot start", s.path, s.runErr)
		res.Fix = []string{"# install gocker and gocker-init from one build (\"make install\" installs both)", s.removeCommand()}
	case s.initID != s.gockerID:
		res.Status = hostcheck.Fail
		res.Detail = fmt.Sprintf("%s comes from another build (build id %s, gocker's %s): containers cannot start", s.path, initproc.BuildIDText(s.initID), initproc.BuildIDText(s.gockerID))
		res.Fix = []string{"# install gocker and gocker-init from one build (\"make install\" installs both)", s.removeCommand()}
	default:
		res.Status = hostcheck.OK
		res.Detail = fmt.Sprintf("containers start from %s (build id %s)", s.path, s.gockerID)
	}
	return res
}

// removeCommand returns the command that removes the init binary, with
// sudo where the user may not write its directory.
func (s initBinaryState) removeCommand() string {
	if s.dirWritable {
		return "rm " + hostcheck.ShellQuote(s.path)
	}
	return "sudo rm " + hostcheck.ShellQuote(s.path)
}
