package image

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// validSignal reports whether s names a signal as a Dockerfile STOPSIGNAL
// may: "SIGTERM", "TERM" or a number from 1 to 64.
func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n >= 1 && n <= 64
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	return unix.SignalNum(name) != 0
}
