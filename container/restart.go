package container

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Restart policy names, as Docker spells them.
const (
	RestartNo            = "no"
	RestartOnFailure     = "on-failure"
	RestartAlways        = "always"
	RestartUnlessStopped = "unless-stopped"
)

// RestartPolicy decides whether the monitor starts a container again after
// its process exits.
type RestartPolicy struct {
	Name string `json:"Name"`
	// MaximumRetryCount limits on-failure restarts; 0 means no limit.
	MaximumRetryCount int `json:"MaximumRetryCount"`
}

// ParseRestartPolicy parses --restart: no, on-failure[:N], always or
// unless-stopped. Without a daemon that restarts at boot, unless-stopped
// behaves as always.
func ParseRestartPolicy(value string) (RestartPolicy, error) {
	name, count, hasCount := strings.Cut(value, ":")
	p := RestartPolicy{Name: name}
	switch name {
	case "", RestartNo:
		p.Name = RestartNo
	case RestartAlways, RestartUnlessStopped:
	case RestartOnFailure:
		if !hasCount {
			return p, nil
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return RestartPolicy{}, fmt.Errorf("invalid --restart %q: the retry count after on-failure: must be a whole number", value)
		}
		p.MaximumRetryCount = n
		return p, nil
	default:
		return RestartPolicy{}, fmt.Errorf("invalid --restart %q: use no, on-failure[:MAX-RETRIES], always or unless-stopped", value)
	}
	if hasCount {
		return RestartPolicy{}, fmt.Errorf("invalid --restart %q: only on-failure takes a retry count", value)
	}
	return p, nil
}

// String returns the policy as --restart takes it.
func (p RestartPolicy) String() string {
	if p.Name == RestartOnFailure && p.MaximumRetryCount > 0 {
		return fmt.Sprintf("%s:%d", p.Name, p.MaximumRetryCount)
	}
	if p.Name == "" {
		return RestartNo
	}
	return p.Name
}

// Enabled reports whether the policy ever restarts a container.
func (p RestartPolicy) Enabled() bool { return p.Name != "" && p.Name != RestartNo }

// ShouldRestart decides, after the container's process exited with
// exitCode, whether to start it again. restarts is how often it was
// restarted already; a stop requested by a user ends every policy.
func (p RestartPolicy) ShouldRestart(exitCode, restarts int, stopRequested bool) bool {
	if stopRequested {
		return false
	}
	switch p.Name {
	case RestartAlways, RestartUnlessStopped:
		return true
	case RestartOnFailure:
		if exitCode == 0 {
			return false
		}
		return p.MaximumRetryCount == 0 || restarts < p.MaximumRetryCount
	}
	return false
}

// Restart delays, as Docker's restart manager uses them: the delay starts
// at restartDelayMin, doubles at each restart up to restartDelayMax, and
// starts over when the container ran for restartResetAfter or longer.
const (
	restartDelayMin   = 100 * time.Millisecond
	restartDelayMax   = time.Minute
	restartResetAfter = 10 * time.Second
)

// restartBackoff computes the delay before each restart.
type restartBackoff struct {
	delay time.Duration
}

// next returns the delay before the next start of a container whose last
// run lasted ranFor.
func (b *restartBackoff) next(ranFor time.Duration) time.Duration {
	switch {
	case b.delay == 0 || ranFor >= restartResetAfter:
		b.delay = restartDelayMin
	default:
		b.delay = min(2*b.delay, restartDelayMax)
	}
	return b.delay
}
