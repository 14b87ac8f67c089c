package userns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/gocker/gocker/hostcheck"
	"github.com/gocker/gocker/reexec"
	"golang.org/x/sys/unix"
)

const probeEntry = "gocker-userns-probe"

// probeTimeout bounds the probe child, which does two system calls and
// exits.
const probeTimeout = 10 * time.Second

func init() {
	reexec.Register(probeEntry, probeMain)
}

// ProbeUserNamespace creates a user namespace for real: it starts the
// running binary with CLONE_NEWUSER and CLONE_NEWUTS, maps only the
// caller's own uid and gid to 0 (which needs no newuidmap), and the child
// sets the hostname of its UTS namespace. That needs CAP_SYS_ADMIN in the
// new user namespace, which the AppArmor userns restriction withholds even
// where the clone itself succeeds. The error names the errno.
func ProbeUserNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, reexec.SelfExe)
	cmd.Args = []string{probeEntry}
	cmd.Env = []string{}
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWUTS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	err := cmd.Run()
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Errorf("clone with CLONE_NEWUSER: %s", hostcheck.ErrnoText(errno))
	}
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		return errors.New(msg)
	}
	return fmt.Errorf("user namespace probe: %w", err)
}

// probeMain is the probe child. Go's os/exec wrote its id maps before the
// execve, so it starts as uid 0 with a full capability set in its user
// namespace unless a security module withholds them.
func probeMain() {
	if uid := os.Getuid(); uid != 0 {
		fmt.Fprintf(os.Stderr, "probe runs as uid %d, not 0: the id map was not written\n", uid)
		os.Exit(1)
	}
	if err := unix.Sethostname([]byte("gocker-probe")); err != nil {
		fmt.Fprintf(os.Stderr, "sethostname as uid 0 in the new user namespace: %s\n", hostcheck.ErrnoText(err))
		os.Exit(1)
	}
	os.Exit(0)
}
