package container

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gocker/gocker/seccomp"
)

// Values of --security-opt seccomp= that name no profile file.
const (
	SeccompUnconfined = "unconfined"
	SeccompBuiltin    = "builtin"
)

// ParseSecurityOpts checks the values of --security-opt and returns them
// as the container's record keeps them, the form that Docker's inspect
// shows: "seccomp=unconfined", "seccomp=builtin", "seccomp=" followed by
// the compacted JSON of a profile file, which Docker's command line reads
// in place of the file's name, "no-new-privileges", "apparmor=unconfined"
// and "label=disable". A profile is
// checked by compiling it for a container with the capabilities caps.
func ParseSecurityOpts(opts []string, caps []string) ([]string, error) {
	var out []string
	for _, opt := range opts {
		key, value, ok := strings.Cut(opt, "=")
		if !ok {
			// Docker also takes the older "seccomp:VALUE".
			key, value, ok = strings.Cut(opt, ":")
		}
		switch {
		case key == "no-new-privileges" && (!ok || value == "true"):
			out = append(out, "no-new-privileges")
		case key == "no-new-privileges":
			return nil, fmt.Errorf("invalid --security-opt %q: gocker always sets no_new_privs, so setuid programs in the container gain no privileges. Leave the option out", opt)
		case (key == "apparmor" && value == "unconfined") || (key == "label" && value == "disable"):
			// gocker loads no AppArmor profile and sets no SELinux
			// label, so these ask for what is already the case.
			out = append(out, key+"="+value)
		case key == "apparmor" || key == "label":
			return nil, fmt.Errorf("invalid --security-opt %q: gocker applies no AppArmor profile and no SELinux label to containers: use apparmor=unconfined or label=disable, or leave the option out", opt)
		case key == "seccomp" && ok && (value == SeccompUnconfined || value == SeccompBuiltin):
			out = append(out, "seccomp="+value)
		case key == "seccomp" && ok && value != "":
			profile, err := readSeccompProfile(value, caps)
			if err != nil {
				return nil, fmt.Errorf("invalid --security-opt %q: %w", opt, err)
			}
			out = append(out, "seccomp="+profile)
		default:
			return nil, fmt.Errorf("invalid --security-opt %q: use seccomp=unconfined, seccomp=builtin (Docker's default profile), seccomp=PROFILE.json, no-new-privileges, apparmor=unconfined or label=disable", opt)
		}
	}
	return out, nil
}

// readSeccompProfile reads a Docker-format profile file, checks that it
// compiles, and returns it as compact JSON.
func readSeccompProfile(path string, caps []string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return "", fmt.Errorf("seccomp profile %s: %w", path, err)
	}
	filter, err := compileSeccomp(compact.Bytes(), caps)
	if err != nil {
		return "", fmt.Errorf("seccomp profile %s: %w", path, err)
	}
	if filter != nil {
		// The init installs the filter before it executes the
		// command. Without these calls a failed start would end the
		// init with no error message.
		denied, err := filter.Denied(startSyscalls...)
		if err != nil {
			return "", fmt.Errorf("seccomp profile %s: %w", path, err)
		}
		if len(denied) > 0 {
			return "", fmt.Errorf("seccomp profile %s: it denies %s, which a container needs to start: allow them in the profile", path, strings.Join(denied, ", "))
		}
	}
	return compact.String(), nil
}

// startSyscalls are the system calls that the init makes after it
// installed the seccomp filter: the command's execve, and on failure the
// report over the sync socket and the exit. The Go runtime returns from
// its preemption signals with rt_sigreturn.
var startSyscalls = []string{"execve", "sendmsg", "exit_group", "rt_sigreturn"}

// seccompProfile returns the seccomp setting of a container's record: the
// profile's JSON, nil for Docker's default profile, or unconfined.
func seccompProfile(h HostConfig) (profile []byte, unconfined bool) {
	for _, opt := range h.SecurityOpt {
		value, ok := strings.CutPrefix(opt, "seccomp=")
		if !ok {
			continue
		}
		// As in Docker, the last seccomp option counts.
		switch value {
		case SeccompUnconfined:
			profile, unconfined = nil, true
		case SeccompBuiltin:
			profile, unconfined = nil, false
		default:
			profile, unconfined = []byte(value), false
		}
	}
	return profile, unconfined
}

// seccompFilter returns the seccomp filter of a container with the
// capabilities caps, or nil when it runs unconfined. Filters compiled
// before come from the cache in cacheDir, unless it is empty.
func seccompFilter(h HostConfig, caps []string, cacheDir string) (*seccomp.Filter, error) {
	profile, unconfined := seccompProfile(h)
	if unconfined {
		return nil, nil
	}
	return cachedSeccomp(cacheDir, profile, caps)
}

// compileSeccomp compiles a profile, or Docker's default profile when it
// is nil. A profile with neither a default action nor rules gives no
// filter, as in Docker.
func compileSeccomp(profile []byte, caps []string) (*seccomp.Filter, error) {
	cfg, err := seccomp.Resolve(profile, caps)
	if err != nil || cfg == nil {
		return nil, err
	}
	return seccomp.Compile(cfg)
}

// SeccompSettings are the parts of a container's configuration that its
// seccomp filter depends on.
type SeccompSettings struct {
	CapAdd, CapDrop, SecurityOpt []string
	// CacheDir is the directory of compiled filters. Empty compiles every
	// time.
	CacheDir string
}

// SeccompSettings returns the seccomp settings of a container's record
// h, with the store's filter cache.
func (s *Store) SeccompSettings(h HostConfig) SeccompSettings {
	return SeccompSettings{CapAdd: h.CapAdd, CapDrop: h.CapDrop, SecurityOpt: h.SecurityOpt, CacheDir: s.seccompCacheDir()}
}

// pendingSeccomp is a filter that a goroutine compiles while the container
// starts.
type pendingSeccomp struct {
	done     chan struct{}
	filter   *seccomp.Filter
	err      error
	duration time.Duration
}

// compileSeccompAsync starts compiling the filter of a container with the
// settings s.
func compileSeccompAsync(s SeccompSettings) *pendingSeccomp {
	p := &pendingSeccomp{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		start := time.Now()
		p.filter, p.err = compileSettings(s)
		p.duration = time.Since(start)
	}()
	return p
}

// wait returns the filter, and how long its compilation took.
func (p *pendingSeccomp) wait() (*seccomp.Filter, time.Duration, error) {
	<-p.done
	return p.filter, p.duration, p.err
}

func compileSettings(s SeccompSettings) (*seccomp.Filter, error) {
	caps, err := Capabilities(s.CapAdd, s.CapDrop)
	if err != nil {
		return nil, err
	}
	return seccompFilter(HostConfig{SecurityOpt: s.SecurityOpt}, caps, s.CacheDir)
}
