package hostcheck

import "strings"

// ShellQuote returns s as one word for a POSIX shell: unchanged when it
// contains only characters that need no quoting, single-quoted otherwise.
// Fix lines use it for paths and user names, so that a printed command can
// be pasted as it is.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, shellSafe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const shellSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-"
