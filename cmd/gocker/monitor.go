package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"unsafe"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/reexec"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func init() {
	reexec.Register(container.MonitorName, monitorMain)
}

// monitorMemoryLimit is the soft limit of the monitor's Go runtime memory,
// several times what it uses.
const monitorMemoryLimit = 16 << 20

// monitorComm is the monitor's process name (at most 15 bytes and a NUL).
var monitorComm = []byte("gocker-monitor\x00")

// monitorArgs are the arguments of the detached monitor's entry point:
// ROOT ID LOG-LEVEL [attach].
type monitorArgs struct {
	root, id, logLevel string
	attach             bool
}

func (a monitorArgs) list() []string {
	args := []string{a.root, a.id, a.logLevel}
	if a.attach {
		args = append(args, "attach")
	}
	return args
}

func parseMonitorArgs(args []string) (monitorArgs, error) {
	if len(args) < 3 || len(args) > 4 || (len(args) == 4 && args[3] != "attach") {
		return monitorArgs{}, fmt.Errorf("monitor: invalid arguments %q", args)
	}
	return monitorArgs{root: args[0], id: args[1], logLevel: args[2], attach: len(args) == 4}, nil
}

// startMonitor starts the detached monitor of ctr, which starts the
// container, and returns once the container runs.
func startMonitor(c *cli.Context, st *stores, ctr *container.Container, attach bool) (*container.MonitorHandle, error) {
	level := c.String("log-level")
	if c.Bool("debug") {
		level = "debug"
	}
	args := monitorArgs{root: st.root, id: ctr.ID, logLevel: level, attach: attach}
	return container.StartMonitor(c.Context, args.list())
}

// monitorMain is the entry point of the detached monitor. Its own log
// goes to monitor.log in the container's directory, because its stdio is
// /dev/null.
func monitorMain() {
	conn, err := container.OpenMonitorConn()
	if err != nil {
		os.Exit(125)
	}
	// ps shows "exe" otherwise, the name of /proc/self/exe.
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&monitorComm[0])), 0, 0, 0)
	// Once the container runs, the monitor allocates nothing per line of
	// output, so it needs no periodic collection: each (re)start ends
	// with a forced one (container.Store.Monitor trims its memory), and
	// the limit bounds the heap should something allocate after all.
	// Without periodic collections, the pages of the binary's tables that
	// a collection reads stay unmapped.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(monitorMemoryLimit)
	if err := runMonitor(conn, os.Args[1:]); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func runMonitor(conn *container.MonitorConn, rawArgs []string) error {
	args, err := parseMonitorArgs(rawArgs)
	if err != nil {
		conn.Fail(err)
		return err
	}
	st, err := openStoresAt(args.root)
	if err != nil {
		conn.Fail(err)
		return err
	}
	ctr, err := st.containers.Get(args.id)
	if err != nil {
		conn.Fail(err)
		return err
	}
	logger, closeLog, err := openMonitorLog(st.containers.Dir(ctr.ID), args.logLevel)
	if err != nil {
		conn.Fail(err)
		return err
	}
	defer closeLog()
	opts := container.MonitorOptions{
		RunOptions: container.RunOptions{
			LayersDir: st.images.Layers.Dir(),
			Logger:    logger,
			Hooks:     containerHooks(st, ctr, nil),
		},
		Attach: args.attach,
	}
	err = st.containers.Monitor(context.Background(), ctr, conn, opts)
	if err != nil && !errors.Is(err, container.ErrRunning) {
		logger.Error("monitor failed", "error", err)
	}
	return err
}

// openMonitorLog opens monitor.log in dir for appending. The monitor logs
// each start, exit and restart of the container at info level, and every
// error it handles.
func openMonitorLog(dir, levelName string) (*slog.Logger, func(), error) {
	level := slog.LevelInfo
	if levelName == "debug" {
		level = slog.LevelDebug
	}
	f, err := os.OpenFile(filepath.Join(dir, "monitor.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open the monitor's log: %w", err)
	}
	handler := slog.NewTextHandler(f, &slog.HandlerOptions{Level: level})
	return slog.New(handler).With("role", "monitor", "pid", os.Getpid()), func() { f.Close() }, nil
}
