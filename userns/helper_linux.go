package userns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/gocker/gocker/reexec"
	"golang.org/x/sys/unix"
)

// HelperFunc is work that must run as root in the user namespace, such as
// extracting a layer so that its files get owners in the subordinate range,
// or removing such files. It receives the JSON argument given to
// [RunHelper] and the standard input stream, and returns a JSON-encodable
// result.
type HelperFunc func(ctx context.Context, arg json.RawMessage, stdin io.Reader) (any, error)

const helperPrefix = "gocker-userns-helper:"

// HelperOptions configures a helper at registration.
type HelperOptions struct {
	// Cloneflags adds namespaces (such as CLONE_NEWNS for a helper that
	// mounts) to the helper process. A helper with Cloneflags always runs
	// in its own process, for root too.
	Cloneflags uintptr
}

// StreamHelperFunc is a [HelperFunc] that also writes a stream, such as a
// tar of files only root in the user namespace may read, to stdout.
type StreamHelperFunc func(ctx context.Context, arg json.RawMessage, stdin io.Reader, stdout io.Writer) (any, error)

type helper struct {
	fn   StreamHelperFunc
	opts HelperOptions
}

var helpers = map[string]helper{}

// RegisterHelper makes fn available to [RunHelper] under name. Call it from
// an init function so that the re-executed binary knows the name too.
func RegisterHelper(name string, opts HelperOptions, fn HelperFunc) {
	RegisterStreamHelper(name, opts, func(ctx context.Context, arg json.RawMessage, stdin io.Reader, _ io.Writer) (any, error) {
		return fn(ctx, arg, stdin)
	})
}

// RegisterStreamHelper makes fn available to [RunStreamHelper] (and
// [RunHelper], which discards the stream) under name.
func RegisterStreamHelper(name string, opts HelperOptions, fn StreamHelperFunc) {
	helpers[name] = helper{fn: fn, opts: opts}
	reexec.Register(helperPrefix+name, func() { helperMain(fn) })
}

type helperResult struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// RunHelper runs the helper registered under name as root with the calling
// user's mapping and decodes its result into result (which may be nil).
// When the caller is root already, the helper runs in this process.
//
// Protocol, over two pipes passed as fds 3 and 4:
//
//	parent                          helper (new user namespace)
//	start /proc/self/exe ---------> blocks reading fd 3
//	newuidmap, newgidmap
//	write argument, close fd 3 ---> reads argument (now uid 0)
//	                                runs the function
//	read fd 4 <-------------------- writes {"result"} or {"error"}, exits
func RunHelper(ctx context.Context, name string, arg any, stdin io.Reader, result any) error {
	return RunStreamHelper(ctx, name, arg, stdin, io.Discard, result)
}

// RunStreamHelper is [RunHelper] for a helper registered with
// [RegisterStreamHelper]: what the helper writes to its stdout goes to
// stdout.
func RunStreamHelper(ctx context.Context, name string, arg any, stdin io.Reader, stdout io.Writer, result any) error {
	h, ok := helpers[name]
	if !ok {
		return fmt.Errorf("user namespace helper %q is not registered", name)
	}
	argJSON, err := json.Marshal(arg)
	if err != nil {
		return fmt.Errorf("encode argument of helper %s: %w", name, err)
	}
	if !Rootless() && h.opts.Cloneflags == 0 {
		out, err := h.fn(ctx, argJSON, stdin, stdout)
		if err != nil {
			return err
		}
		return decodeResult(name, out, result)
	}
	var mapping Mapping
	if Rootless() {
		var err error
		if mapping, err = LoadMapping(); err != nil {
			return err
		}
	}
	return runHelperProcess(ctx, name, h.opts, mapping, argJSON, helperIO{stdin: stdin, stdout: stdout}, result)
}

// helperIO are the streams of a helper process.
type helperIO struct {
	stdin  io.Reader
	stdout io.Writer
}

func decodeResult(name string, out any, result any) error {
	if result == nil {
		return nil
	}
	data, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode result of helper %s: %w", name, err)
	}
	return json.Unmarshal(data, result)
}

func runHelperProcess(ctx context.Context, name string, opts HelperOptions, mapping Mapping, argJSON []byte, stdio helperIO, result any) (retErr error) {
	argR, argW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer argW.Close()
	resR, resW, err := os.Pipe()
	if err != nil {
		argR.Close()
		return err
	}
	defer resR.Close()

	cmd := exec.CommandContext(ctx, reexec.SelfExe)
	cmd.Args = []string{helperPrefix + name}
	cmd.Stdin = stdio.stdin
	if stdio.stdout != io.Discard {
		cmd.Stdout = stdio.stdout
	}
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = []*os.File{argR, resW}
	cmd.SysProcAttr = SysProcAttr(opts.Cloneflags)
	cmd.Env = os.Environ()
	err = cmd.Start()
	argR.Close()
	resW.Close()
	if err != nil {
		return fmt.Errorf("start user namespace helper %s: %w", name, err)
	}
	defer func() {
		if retErr != nil {
			_ = cmd.Process.Kill()
		}
		waitErr := cmd.Wait()
		if retErr == nil && waitErr != nil {
			retErr = fmt.Errorf("user namespace helper %s: %w", name, waitErr)
		}
	}()

	if Rootless() {
		if err := WriteMaps(ctx, cmd.Process.Pid, mapping); err != nil {
			return err
		}
	}
	if _, err := argW.Write(argJSON); err != nil {
		return fmt.Errorf("send argument to helper %s: %w", name, err)
	}
	argW.Close()

	var res helperResult
	data, err := io.ReadAll(resR)
	if err != nil {
		return fmt.Errorf("read result of helper %s: %w", name, err)
	}
	if len(data) == 0 {
		return fmt.Errorf("user namespace helper %s exited without a result", name)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("decode result of helper %s: %w", name, err)
	}
	if res.Error != "" {
		return errors.New(res.Error)
	}
	if result != nil && len(res.Result) > 0 {
		return json.Unmarshal(res.Result, result)
	}
	return nil
}

// helperMain is the entry point of the re-executed helper process.
func helperMain(fn StreamHelperFunc) {
	argFile := os.NewFile(3, "helper-argument")
	resFile := os.NewFile(4, "helper-result")
	unix.CloseOnExec(3)
	unix.CloseOnExec(4)

	res := runHelperFunc(fn, argFile)
	data, _ := json.Marshal(res)
	_, _ = resFile.Write(data)
	resFile.Close()
	if res.Error != "" {
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelperFunc(fn StreamHelperFunc, argFile *os.File) (res helperResult) {
	defer func() {
		if r := recover(); r != nil {
			res = helperResult{Error: fmt.Sprintf("helper panic: %v", r)}
		}
	}()
	// The parent writes the argument only after the id maps exist, so
	// reading it to the end is the wait for them.
	arg, err := io.ReadAll(argFile)
	argFile.Close()
	if err != nil {
		return helperResult{Error: fmt.Sprintf("read helper argument: %v", err)}
	}
	if os.Getuid() != 0 {
		return helperResult{Error: fmt.Sprintf("user namespace helper runs as uid %d, not 0: the id maps were not written", os.Getuid())}
	}
	out, err := fn(context.Background(), arg, os.Stdin, os.Stdout)
	if err != nil {
		return helperResult{Error: strings.TrimSpace(err.Error())}
	}
	data, err := json.Marshal(out)
	if err != nil {
		return helperResult{Error: fmt.Sprintf("encode helper result: %v", err)}
	}
	return helperResult{Result: data}
}
