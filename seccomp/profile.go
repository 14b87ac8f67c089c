// Package seccomp turns Docker-format seccomp profiles into classic BPF
// programs for seccomp(2), without libseccomp, and installs them.
//
// [Resolve] applies a profile's conditions (the host's architecture and
// kernel version, the container's capabilities) with
// github.com/moby/profiles/seccomp, the package that holds Docker's default
// profile. [Compile] translates the resulting rules with the syscall tables
// of github.com/elastic/go-seccomp-bpf, for the native architecture and the
// sub-architectures that the profile lists (on amd64: i386 and x32).
//
// The program checks the architecture first: a system call of an
// architecture that the profile does not list kills the process, as
// libseccomp's filters do. For each architecture it then looks the system
// call number up in a binary search tree, and for a number with argument
// conditions it compares the arguments as 64-bit values (32-bit values on
// i386 and arm). The rules of one system call are tried in profile order,
// and the first that matches decides. A number above the largest that the
// profile names gets ENOSYS, as runc's filters return for system calls newer
// than the profile, so that a C library falls back to an older call.
//
// Names that the syscall tables do not know for an architecture (such as
// "socketcall" on x86_64, or a system call newer than the tables) are
// skipped, as libseccomp skips them.
package seccomp

//go:generate go run gen_tables.go

import (
	"encoding/json"
	"errors"
	"fmt"

	profiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Resolve returns the rules of a Docker-format profile for a container with
// the capabilities caps (names such as CAP_SYS_ADMIN) on this host: the
// entries whose includes and excludes match the architecture, the kernel
// version and caps. A nil profile is Docker's default profile. It returns
// nil when the profile has neither a default action nor rules, which Docker
// runs without a filter.
func Resolve(profile []byte, caps []string) (*specs.LinuxSeccomp, error) {
	// Docker matches the capability conditions against the bounding set,
	// which gocker sets to the container's capabilities.
	rs := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
	if profile == nil {
		return profiles.GetDefaultProfile(rs)
	}
	// LoadProfile wraps a syntax error in a message of its own. Decoding
	// first reports the JSON error alone.
	var syntax profiles.Seccomp
	if err := json.Unmarshal(profile, &syntax); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return nil, fmt.Errorf("not a Docker seccomp profile: a JSON %s, not an object", typeErr.Value)
			}
			return nil, fmt.Errorf("not a Docker seccomp profile: %q has the wrong type (a JSON %s)", typeErr.Field, typeErr.Value)
		}
		return nil, err
	}
	cfg, err := profiles.LoadProfile(string(profile), rs)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}
