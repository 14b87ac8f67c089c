package container

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/gocker/gocker/container/initproc"
)

// DefaultPath is the PATH a container gets when its image sets none, as
// in Docker.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ParseEnvFile reads a Docker env file: KEY=VALUE lines, KEY alone to pass
// the host's value, and '#' comments. lookup returns the host's variables.
func ParseEnvFile(r io.Reader, lookup func(string) (string, bool)) ([]string, error) {
	var env []string
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimLeft(scanner.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kv, ok, err := expandEnv(line, lookup)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if ok {
			env = append(env, kv)
		}
	}
	return env, scanner.Err()
}

// ParseEnvFlags turns -e values into KEY=VALUE, taking the host's value for
// a bare KEY and skipping it when the host has none, as Docker does.
func ParseEnvFlags(values []string, lookup func(string) (string, bool)) ([]string, error) {
	var env []string
	for _, v := range values {
		kv, ok, err := expandEnv(v, lookup)
		if err != nil {
			return nil, fmt.Errorf("invalid --env %q: %w", v, err)
		}
		if ok {
			env = append(env, kv)
		}
	}
	return env, nil
}

func expandEnv(v string, lookup func(string) (string, bool)) (string, bool, error) {
	key, _, hasValue := strings.Cut(v, "=")
	if key == "" || strings.ContainsAny(key, " \t") {
		return "", false, fmt.Errorf("variable name %q is empty or has whitespace", key)
	}
	if hasValue {
		return v, true, nil
	}
	value, ok := lookup(key)
	if !ok {
		return "", false, nil
	}
	return key + "=" + value, true, nil
}

// MergeEnv returns base with every variable of overrides set, keeping
// base's order and appending new variables.
func MergeEnv(base, overrides []string) []string {
	out := append([]string{}, base...)
	for _, kv := range overrides {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, e := range out {
			if strings.HasPrefix(e, key+"=") {
				out[i] = kv
				replaced = true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// processEnv returns the environment of a container's processes: its
// configured environment, with HOSTNAME set to the container's host name
// unless the image or the user set it, as Docker does at run time.
// HOSTNAME stays out of the record, so commit does not copy it into an
// image.
func processEnv(c *Container) []string {
	if initproc.HasEnv(c.Config.Env, "HOSTNAME") {
		return c.Config.Env
	}
	return append(append([]string{}, c.Config.Env...), "HOSTNAME="+c.Config.Hostname)
}
