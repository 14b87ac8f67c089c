package hostcheck

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Sysctl is a numeric kernel parameter as read from /proc/sys.
type Sysctl struct {
	// Name is the dotted name, such as "user.max_user_namespaces".
	Name  string
	Value int64
	// Present is false when the running kernel has no such parameter.
	Present bool
	// Err is a failure to read or parse a parameter that is present.
	Err error
}

// ParseSysctl reads the value of a numeric sysctl file: one decimal
// integer, optionally surrounded by white space.
func ParseSysctl(r io.Reader) (int64, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64))
	if err != nil {
		return 0, err
	}
	text := strings.TrimSpace(string(data))
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", text)
	}
	return v, nil
}

// ReadSysctl reads the sysctl name (dotted, as sysctl(8) spells it) from
// /proc/sys of the calling process. Network parameters belong to the
// caller's network namespace.
func ReadSysctl(name string) Sysctl {
	s := Sysctl{Name: name}
	path := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s
	}
	s.Present = true
	if err != nil {
		s.Err = err
		return s
	}
	defer f.Close()
	if s.Value, err = ParseSysctl(f); err != nil {
		s.Err = fmt.Errorf("read %s: %w", path, err)
	}
	return s
}
