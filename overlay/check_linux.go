package overlay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gocker/gocker/hostcheck"
	"github.com/gocker/gocker/userns"
	"golang.org/x/sys/unix"
)

const mountCheckHelper = "overlay-mount-check"

func init() {
	userns.RegisterHelper(mountCheckHelper, userns.HelperOptions{Cloneflags: unix.CLONE_NEWNS}, mountCheckMain)
}

// CheckHost checks that the store root can hold overlay upper directories
// and that overlay mounts there as gocker mounts it. It creates root when
// missing and works in a temporary directory inside it, which it removes
// before returning.
func CheckHost(ctx context.Context, root string) []hostcheck.Result {
	rootless := userns.Rootless()
	// An unparsable release leaves version 0.0. Only the explanation of a
	// failure uses the version, so the checks still run.
	kernel, _ := runningKernel()
	dir, err := makeCheckDir(root)
	if err == nil {
		defer os.RemoveAll(dir)
	}
	store := StoreResult(inspectStore(root, dir, rootless, kernel, err))
	mount := MountState{Rootless: rootless, Kernel: kernel, Options: mountCheckOptions(rootless), RunErr: err}
	if err == nil {
		mount.MountErr, mount.RunErr = runMountCheck(ctx, dir, rootless)
	}
	return []hostcheck.Result{store, MountResult(mount)}
}

// CheckKernel checks the running kernel's version, from uname(2).
func CheckKernel() hostcheck.Result {
	release, err := kernelRelease()
	if err != nil {
		return hostcheck.Result{Check: "kernel", Status: hostcheck.Warn, Detail: err.Error()}
	}
	return KernelResult(release)
}

func runningKernel() (KernelVersion, error) {
	release, err := kernelRelease()
	if err != nil {
		return KernelVersion{}, err
	}
	return ParseKernelRelease(release)
}

func kernelRelease() (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", os.NewSyscallError("uname", err)
	}
	return unix.ByteSliceToString(uts.Release[:]), nil
}

func makeCheckDir(root string) (string, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("create store root: %w", err)
	}
	dir, err := os.MkdirTemp(root, ".doctor-")
	if err != nil {
		return "", fmt.Errorf("create a directory in the store root: %w", err)
	}
	return dir, nil
}

func inspectStore(root, dir string, rootless bool, kernel KernelVersion, err error) StoreState {
	s := StoreState{Root: root, Rootless: rootless, Kernel: kernel, Err: err}
	if err != nil {
		return s
	}
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		s.Err = &os.PathError{Op: "statfs", Path: root, Err: err}
		return s
	}
	s.Magic = int64(st.Type)
	s.XattrErr = trySetXattr(filepath.Join(dir, "xattr"), XattrPrefix(rootless)+"gocker-doctor")
	return s
}

// trySetXattr creates an empty file at path and sets the xattr name on it.
func trySetXattr(path, name string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), name, []byte("1"), 0); err != nil {
		return hostcheck.ErrnoError(err)
	}
	return nil
}

// mountCheckArg is the argument of the mount check helper.
type mountCheckArg struct {
	Dir       string `json:"dir"`
	UserXattr bool   `json:"userxattr"`
}

// mountCheckOutput is the helper's result. A failed mount is a result, not
// an error, so that the caller can tell it from a helper that could not
// run.
type mountCheckOutput struct {
	Error string `json:"error,omitempty"`
}

func runMountCheck(ctx context.Context, dir string, rootless bool) (mountErr string, runErr error) {
	var out mountCheckOutput
	arg := mountCheckArg{Dir: dir, UserXattr: rootless}
	if err := userns.RunHelper(ctx, mountCheckHelper, arg, nil, &out); err != nil {
		return "", err
	}
	return out.Error, nil
}

// mountCheckOptions returns the options of the check's mount, relative to
// the check directory: the helper changes into it first, so no path in the
// options needs escaping.
func mountCheckOptions(userXattr bool) string {
	opts := "lowerdir=lower,upperdir=upper,workdir=work"
	if userXattr {
		opts += ",userxattr"
	}
	return opts
}

// mountCheckMain runs in the helper process, which has its own mount
// namespace and, rootless, is root in a user namespace.
func mountCheckMain(_ context.Context, raw json.RawMessage, _ io.Reader) (any, error) {
	var arg mountCheckArg
	if err := json.Unmarshal(raw, &arg); err != nil {
		return nil, fmt.Errorf("decode mount check argument: %w", err)
	}
	// A new mount namespace of root starts as a copy whose mounts may
	// propagate to the host's namespace. Making every mount private first
	// keeps the test mount inside this process's namespace, which the
	// kernel drops when the helper exits.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make mounts private: %s", hostcheck.ErrnoText(err))
	}
	if err := os.Chdir(arg.Dir); err != nil {
		return nil, err
	}
	var out mountCheckOutput
	if err := tryOverlay(arg.UserXattr); err != nil {
		out.Error = err.Error()
	}
	return out, nil
}
