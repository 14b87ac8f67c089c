package image

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ApplyChanges applies Dockerfile instructions given with --change
// (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)
// to an image config, as docker import and docker commit do.
func ApplyChanges(cfg *v1.Config, changes []string) error {
	for _, change := range changes {
		instruction, args, _ := strings.Cut(strings.TrimSpace(change), " ")
		args = strings.TrimSpace(args)
		if err := applyChange(cfg, strings.ToUpper(instruction), args); err != nil {
			return fmt.Errorf("invalid --change %q: %w", change, err)
		}
	}
	return nil
}

func applyChange(cfg *v1.Config, instruction, args string) error {
	if args == "" {
		return fmt.Errorf("%s needs an argument", instruction)
	}
	switch instruction {
	case "CMD":
		cfg.Cmd = commandForm(args)
	case "ENTRYPOINT":
		cfg.Entrypoint = commandForm(args)
	case "ENV":
		return applyEnv(cfg, args)
	case "EXPOSE":
		return applyExpose(cfg, args)
	case "LABEL":
		return applyLabel(cfg, args)
	case "STOPSIGNAL":
		if !validSignal(args) {
			return fmt.Errorf("unknown signal %q: use a name such as SIGTERM or SIGQUIT, or a number from 1 to 64", args)
		}
		cfg.StopSignal = args
	case "USER":
		cfg.User = args
	case "VOLUME":
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range commandForm(args) {
			cfg.Volumes[v] = struct{}{}
		}
	case "WORKDIR":
		if !path.IsAbs(args) {
			args = path.Join("/", cfg.WorkingDir, args)
		}
		cfg.WorkingDir = path.Clean(args)
	default:
		return fmt.Errorf("unsupported instruction %s: use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR", instruction)
	}
	return nil
}

// commandForm parses the exec form (a JSON array) or the shell form, which
// runs through /bin/sh -c as in a Dockerfile.
func commandForm(args string) []string {
	var list []string
	if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &list) == nil {
		return list
	}
	return []string{"/bin/sh", "-c", args}
}

func applyEnv(cfg *v1.Config, args string) error {
	var pairs []string
	if key, value, ok := strings.Cut(args, " "); ok && !strings.Contains(key, "=") {
		pairs = []string{key + "=" + strings.TrimSpace(value)}
	} else {
		pairs = strings.Fields(args)
	}
	for _, p := range pairs {
		key, _, ok := strings.Cut(p, "=")
		if !ok || key == "" {
			return fmt.Errorf("ENV wants KEY=VALUE, got %q", p)
		}
		cfg.Env = setEnv(cfg.Env, p)
	}
	return nil
}

// setEnv replaces the variable of kv in env, or appends it.
func setEnv(env []string, kv string) []string {
	key, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if strings.HasPrefix(e, key+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

func applyExpose(cfg *v1.Config, args string) error {
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, p := range strings.Fields(args) {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		cfg.ExposedPorts[p] = struct{}{}
	}
	return nil
}

func applyLabel(cfg *v1.Config, args string) error {
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, p := range strings.Fields(args) {
		key, value, ok := strings.Cut(p, "=")
		if !ok || key == "" {
			return fmt.Errorf("LABEL wants KEY=VALUE, got %q", p)
		}
		cfg.Labels[key] = strings.Trim(value, `"`)
	}
	return nil
}
