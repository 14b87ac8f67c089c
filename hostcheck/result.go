// Package hostcheck defines the result of one host check, as "gocker
// doctor" prints it, and small readers that the checks share.
//
// The checks live in the packages that own each concern (userns, overlay,
// cgroupv2, netstack). Each splits a pure decision function, table-tested
// with inline inputs, from the code that reads the host.
package hostcheck

// Status is the verdict of one check.
type Status string

// Statuses of a [Result].
const (
	// OK means the host allows what the check looks for.
	OK Status = "ok"
	// Warn means an optional feature is unavailable or the setup is
	// unusual, but "gocker run" still works.
	Warn Status = "warn"
	// Fail means a required check failed: "gocker run" cannot work for the
	// calling user until the fix is applied.
	Fail Status = "fail"
	// Info reports a fact that needs no action.
	Info Status = "info"
)

// Result is the outcome of one check.
type Result struct {
	// Check is the short name of the check, such as "subids" or "tun".
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Detail states what was found, in one line.
	Detail string `json:"detail"`
	// Fix contains the shell commands that fix a failure or a warning, one
	// per element and in the order to run them. Elements starting with '#'
	// are instructions that no single command covers.
	Fix []string `json:"fix,omitempty"`
}

// Failed returns the names of the checks with status [Fail].
func Failed(results []Result) []string {
	var names []string
	for _, r := range results {
		if r.Status == Fail {
			names = append(names, r.Check)
		}
	}
	return names
}
