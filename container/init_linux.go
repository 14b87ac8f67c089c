package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/gocker/gocker/reexec"
	"golang.org/x/sys/unix"
)

// initName is argv[0] of the re-executed container init.
const initName = "gocker-container-init"

// File descriptors the parent passes to the init.
const (
	syncFD = 3
	specFD = 4
)

func init() {
	reexec.Register(initName, initMain)
}

// initMain is the container init. It runs as root in the container's new
// namespaces, builds the root filesystem and executes the container's
// process in its own place, so it never returns on success.
//
// The credentials, capabilities and PR_SET_PDEATHSIG set here are
// per-thread attributes that execve(2) takes from the calling thread, so the
// whole init runs locked to the main OS thread.
func initMain() {
	runtime.LockOSThread()
	unix.CloseOnExec(syncFD)
	sync := os.NewFile(syncFD, "sync")
	err := runInit()
	// Only failures reach this point.
	code := ExitGockerError
	var se *StartError
	if errors.As(err, &se) {
		code = se.Code
	}
	sendMessage(sync, syncMessage{Type: msgError, Message: err.Error(), Code: code})
	os.Exit(code)
}

func runInit() (retErr error) {
	defer func() {
		if r := recover(); r != nil {
			retErr = fmt.Errorf("container init panic: %v", r)
		}
	}()
	spec, err := readSpec()
	if err != nil {
		return err
	}
	if err := enterCgroupNamespace(); err != nil {
		return err
	}
	if spec.NewNetNS {
		if err := setLoopbackUp(); err != nil {
			return err
		}
	}
	console, err := setupRootfs(spec)
	if err != nil {
		return err
	}
	if err := finishProcess(spec, console); err != nil {
		return err
	}
	return execProcess(spec)
}

// readSpec reads the Spec from its pipe. The parent writes it only after the
// id maps exist, so reading to end-of-file is also the wait for them.
func readSpec() (*Spec, error) {
	f := os.NewFile(specFD, "spec")
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read container spec: %w", err)
	}
	var spec Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("decode container spec: %w", err)
	}
	if os.Getuid() != 0 {
		return nil, fmt.Errorf("container init runs as uid %d, not 0: the user namespace has no id maps", os.Getuid())
	}
	return &spec, nil
}

func sendMessage(sock *os.File, msg syncMessage, fds ...int) {
	data, err := json.Marshal(msg)
	if err != nil {
		return
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	_ = unix.Sendmsg(int(sock.Fd()), data, oob, nil, 0)
}
