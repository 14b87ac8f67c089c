package container

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Log drivers: json-file keeps the container's output in the container's
// directory, one JSON record per line, as Docker's driver of that name
// does; none keeps nothing.
const (
	LogDriverJSONFile = "json-file"
	LogDriverNone     = "none"
)

// LogConfig is the container's log driver and its options (--log-opt).
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config,omitempty"`
}

// NewLogConfig validates a log driver and its KEY=VALUE options. json-file
// takes max-size (bytes, with an optional k, m or g suffix; the file is
// rotated when it would grow past it) and max-file (how many files to keep,
// rotated ones included; needs max-size). Without max-size the log is not
// limited, as with Docker's json-file driver.
func NewLogConfig(driver string, options []string) (LogConfig, error) {
	if driver == "" {
		driver = LogDriverJSONFile
	}
	lc := LogConfig{Type: driver}
	switch driver {
	case LogDriverJSONFile, LogDriverNone:
	default:
		return LogConfig{}, fmt.Errorf("invalid --log-driver %q: use json-file or none", driver)
	}
	for _, opt := range options {
		key, value, ok := strings.Cut(opt, "=")
		if !ok || value == "" {
			return LogConfig{}, fmt.Errorf("invalid --log-opt %q: use KEY=VALUE", opt)
		}
		if driver != LogDriverJSONFile || (key != "max-size" && key != "max-file") {
			return LogConfig{}, fmt.Errorf("invalid --log-opt %q: the %s log driver takes no option %q (json-file takes max-size and max-file)", opt, driver, key)
		}
		if lc.Config == nil {
			lc.Config = map[string]string{}
		}
		lc.Config[key] = value
	}
	if _, _, err := lc.Limits(); err != nil {
		return LogConfig{}, err
	}
	return lc, nil
}

// Limits returns the maximum size of one log file in bytes (0: no limit)
// and the number of files to keep.
func (lc LogConfig) Limits() (maxSize int64, maxFiles int, err error) {
	maxFiles = 1
	if v, ok := lc.Config["max-size"]; ok {
		if maxSize, err = parseByteSize(v); err != nil || maxSize <= 0 {
			return 0, 0, fmt.Errorf("invalid --log-opt max-size=%s: use a positive size such as 512k, 10m or 1g", v)
		}
	}
	if v, ok := lc.Config["max-file"]; ok {
		if maxFiles, err = strconv.Atoi(v); err != nil || maxFiles < 1 {
			return 0, 0, fmt.Errorf("invalid --log-opt max-file=%s: use a whole number of at least 1", v)
		}
		if maxFiles > 1 && maxSize == 0 {
			return 0, 0, fmt.Errorf("invalid --log-opt max-file=%s: rotation needs max-size as well", v)
		}
	}
	return maxSize, maxFiles, nil
}

// String returns the options as --log-opt takes them, sorted.
func (lc LogConfig) String() string {
	keys := make([]string, 0, len(lc.Config))
	for k := range lc.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	opts := make([]string, 0, len(keys))
	for _, k := range keys {
		opts = append(opts, k+"="+lc.Config[k])
	}
	return strings.Join(opts, ",")
}

// parseByteSize parses a size such as "10m" with binary units, as
// Docker's max-size does: b, k, m and g, optionally followed by b, in any
// case.
func parseByteSize(s string) (int64, error) {
	lower := strings.ToLower(strings.TrimSpace(s))
	lower = strings.TrimSuffix(lower, "b")
	mult := int64(1)
	if n := len(lower); n > 0 {
		switch lower[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			lower = lower[:n-1]
		}
	}
	n, err := strconv.ParseInt(lower, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}
