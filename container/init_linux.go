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

// File descriptors the parent passes to the init. initExeFD is the sealed
// copy of the binary that an --init init runs from.
const (
	syncFD    = 3
	specFD    = 4
	initExeFD = 5
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
	// Present with --init only; the container's process must not
	// inherit it.
	unix.CloseOnExec(initExeFD)
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
	// No other process is in the container's PID namespace yet, so none
	// can open /proc/1/exe, which is the gocker binary until the
	// container's command replaces it. Making the init non-dumpable closes
	// that way also for a process that joins early: /proc/PID/exe of a
	// non-dumpable process needs CAP_SYS_PTRACE over it. It cannot be set
	// before the id maps exist, because newuidmap checks that the caller
	// owns /proc/PID, and a non-dumpable process's /proc/PID belongs to
	// root. execve(2) of the command makes the process dumpable again.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_DUMPABLE)", err)
	}
	if err := enterCgroupNamespace(); err != nil {
		return err
	}
	if spec.NewNetNS {
		if err := setLoopbackUp(); err != nil {
			return err
		}
		setNetworkSysctls()
	}
	console, err := setupRootfs(spec)
	if err != nil {
		return err
	}
	debugf(spec, "mounted the root filesystem and pivoted into %s", spec.MergedDir)
	if err := finishProcess(spec, console); err != nil {
		return err
	}
	debugf(spec, "switched to user %q with capabilities %v, executing %q", spec.User, spec.Capabilities, spec.Args)
	if spec.Init {
		return runMiniInit(spec)
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

// debugf sends a debug log line to the parent when it logs at debug level.
func debugf(spec *Spec, format string, args ...any) {
	if spec.Debug {
		sendMessage(os.NewFile(syncFD, "sync"), syncMessage{Type: msgLog, Level: "DEBUG", Message: fmt.Sprintf(format, args...)})
	}
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
