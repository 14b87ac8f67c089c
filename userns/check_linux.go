package userns

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"

	"github.com/gocker/gocker/hostcheck"
	"golang.org/x/sys/unix"
)

// CheckHost runs the user namespace checks for the calling user:
// subordinate ids, newuidmap and newgidmap, the sysctls that allow user
// namespaces, and a real user namespace.
func CheckHost(ctx context.Context) []hostcheck.Result {
	rootless := Rootless()
	results := []hostcheck.Result{SubIDResult(readSubIDState(rootless))}
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		results = append(results, MapToolResult(inspectMapTool(tool), rootless))
	}
	return append(results, NamespaceResults(readNamespaceState(ctx, rootless))...)
}

func readSubIDState(rootless bool) SubIDState {
	s := SubIDState{User: CurrentIdentity(), Rootless: rootless}
	var uidErr, gidErr error
	s.UIDEntries, uidErr = readSubIDFile(SubUIDFile)
	s.GIDEntries, gidErr = readSubIDFile(SubGIDFile)
	s.ReadErr = errors.Join(ignoreNotExist(uidErr), ignoreNotExist(gidErr))
	return s
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func inspectMapTool(tool string) MapToolState {
	s := MapToolState{Tool: tool, Err: CheckMapTool(tool)}
	path, err := exec.LookPath(tool)
	if err != nil {
		return s
	}
	s.Path = path
	var st unix.Stat_t
	if unix.Stat(path, &st) == nil {
		s.Setuid = st.Mode&unix.S_ISUID != 0 && st.Uid == 0
	}
	return s
}

func readNamespaceState(ctx context.Context, rootless bool) NamespaceState {
	exe, err := os.Executable()
	if err != nil {
		// os.Executable reads /proc/self/exe, so it fails without /proc.
		// The profile then names the usual install path.
		exe = "/usr/local/bin/gocker"
	}
	return NamespaceState{
		Rootless:          rootless,
		MaxUserNamespaces: hostcheck.ReadSysctl("user.max_user_namespaces"),
		UnprivilegedClone: hostcheck.ReadSysctl("kernel.unprivileged_userns_clone"),
		AppArmorRestrict:  hostcheck.ReadSysctl("kernel.apparmor_restrict_unprivileged_userns"),
		ProbeErr:          ProbeUserNamespace(ctx),
		Executable:        exe,
	}
}
