package overlay

import "golang.org/x/sys/unix"

// errNotEmpty is what rename(2) returns when the target is a non-empty
// directory: another process stored the same layer first.
var errNotEmpty error = unix.ENOTEMPTY
