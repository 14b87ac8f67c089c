package initproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Name is argv[0] of the container init. It is also the init's role in
// the gocker binary, which serves when no usable gocker-init is next to it.
const Name = "gocker-container-init"

// File descriptors the parent passes to the init. ExeFD is the sealed
// copy of the binary that an --init init runs from.
const (
	SyncFD = 3
	SpecFD = 4
	ExeFD  = 5
)

// BuildID identifies the sources gocker and the init binary were built
// from; the build sets it in both (-ldflags -X). gocker passes its own as
// the init's first argument, and an init from other sources refuses to
// run, since the spec and the messages between the two may differ. An
// empty BuildID (a plain "go build") makes gocker use itself as the init.
var BuildID string

// Main is the container init. It runs as root in the container's new
// namespaces, builds the root filesystem and executes the container's
// process in its own place, so it never returns on success.
//
// The credentials, capabilities and PR_SET_PDEATHSIG set here are
// per-thread attributes that execve(2) takes from the calling thread, so the
// whole init runs locked to the main OS thread.
func Main() {
	runtime.LockOSThread()
	unix.CloseOnExec(SyncFD)
	// Present with --init only; the container's process must not
	// inherit it.
	unix.CloseOnExec(ExeFD)
	sync := os.NewFile(SyncFD, "sync")
	err := checkBuildID()
	if err == nil {
		err = runInit()
	} else {
		// gocker reads the init's messages only after it sent the
		// spec. The network helpers it starts before that need the
		// init's namespaces, so the init waits for the spec first.
		_, _ = io.Copy(io.Discard, os.NewFile(SpecFD, "spec"))
	}
	// Only failures reach this point.
	code := ExitGockerError
	var se *StartError
	if errors.As(err, &se) {
		code = se.Code
	}
	sendMessage(sync, SyncMessage{Type: MsgError, Message: err.Error(), Code: code})
	os.Exit(code)
}

// runInit builds the container from its spec and executes its command.
// It returns only on failure.
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
	// can open /proc/1/exe, which is the init's binary (gocker-init or
	// gocker) until the container's command replaces it. Making the init non-dumpable closes
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

// checkBuildID fails unless gocker passed this binary's own BuildID as
// the first argument. The second names the binary for the message, since
// an init run from a memfd copy (--init) has no path of its own.
func checkBuildID() error {
	if len(os.Args) > 1 && os.Args[1] == BuildID {
		return nil
	}
	gocker := ""
	if len(os.Args) > 1 {
		gocker = os.Args[1]
	}
	self, _ := os.Executable()
	if len(os.Args) > 2 {
		self = os.Args[2]
	}
	return fmt.Errorf("the container init %s comes from another build than gocker (build id %s, gocker's %s): install gocker and gocker-init from one build (\"make install\" installs both), or remove %s to run the init from gocker itself",
		self, BuildIDText(BuildID), BuildIDText(gocker), self)
}

// BuildIDText quotes a build id for a message; an empty one is a build
// without an id.
func BuildIDText(id string) string {
	if id == "" {
		return "none"
	}
	return strconv.Quote(id)
}

// readSpec reads the Spec from its pipe. The parent writes it only after the
// id maps exist, so reading to end-of-file is also the wait for them.
func readSpec() (*Spec, error) {
	f := os.NewFile(SpecFD, "spec")
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
		sendMessage(os.NewFile(SyncFD, "sync"), SyncMessage{Type: MsgLog, Level: "DEBUG", Message: fmt.Sprintf(format, args...)})
	}
}

func sendMessage(sock *os.File, msg SyncMessage, fds ...int) {
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
