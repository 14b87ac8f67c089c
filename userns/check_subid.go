package userns

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gocker/gocker/hostcheck"
)

// SubIDState is the input of [SubIDResult]: the calling user and the
// parsed subordinate id files.
type SubIDState struct {
	User     Identity
	Rootless bool
	// UIDEntries and GIDEntries are the parsed /etc/subuid and /etc/subgid;
	// a missing file gives no entries.
	UIDEntries, GIDEntries []SubIDEntry
	// ReadErr is a failure to read or parse either file.
	ReadErr error
}

// subIDFinding is the outcome of checking one subordinate id file: the
// user's ranges and, when they cannot be used, the reason, which wraps one
// of the package's sentinel errors.
type subIDFinding struct {
	file     string
	ranges   []SubIDRange
	problem  error
	overlaps []SubIDRange
}

// SubIDResult decides whether /etc/subuid and /etc/subgid give the user
// enough ids for a rootless container, by the rules [LoadMapping] applies.
// The fix is one usermod command with a range that is free in both files.
func SubIDResult(s SubIDState) hostcheck.Result {
	res := hostcheck.Result{Check: "subids"}
	if !s.Rootless {
		res.Status = hostcheck.Info
		res.Detail = "root needs no subordinate ids unless it requests a user namespace"
		return res
	}
	if s.ReadErr != nil {
		res.Status = hostcheck.Fail
		res.Detail = s.ReadErr.Error()
		res.Fix = []string{"# correct or remove the line that the message names"}
		return res
	}
	uids := findSubIDs(SubUIDFile, s.UIDEntries, s.User, s.User.UID)
	gids := findSubIDs(SubGIDFile, s.GIDEntries, s.User, s.User.GID)
	if uids.problem == nil && gids.problem == nil {
		res.Status = hostcheck.OK
		res.Detail = fmt.Sprintf("%s: %s %s, %s %s", s.User, SubUIDFile, formatRanges(uids.ranges), SubGIDFile, formatRanges(gids.ranges))
		return res
	}
	free := SuggestFreeRange(slices.Concat(s.UIDEntries, s.GIDEntries), MinSubIDs)
	res.Status = hostcheck.Fail
	res.Detail = joinProblems(uids, gids)
	res.Fix = subIDFix(s.User, uids, gids, free)
	return res
}

func findSubIDs(file string, entries []SubIDEntry, id Identity, hostID int) subIDFinding {
	f := subIDFinding{file: file, ranges: RangesFor(entries, id.Name, id.UID)}
	var total int64
	for _, r := range f.ranges {
		total += r.Count
		if int64(hostID) >= r.Start && int64(hostID) < r.End() {
			f.overlaps = append(f.overlaps, r)
		}
	}
	switch {
	case len(f.ranges) == 0:
		f.problem = fmt.Errorf("%s: %w for %s", file, ErrNoSubIDs, id)
	case len(f.overlaps) > 0:
		f.problem = fmt.Errorf("%s: range %s: %w %d", file, formatRanges(f.overlaps), ErrRangeOverlapsUser, hostID)
	case total < MinSubIDs-1:
		// Container id 0 is the user's own id, so the ranges must supply
		// ids 1 through 65535: the limit LoadMapping enforces.
		f.problem = fmt.Errorf("%s: %w: %d ids, gocker needs at least %d", file, ErrRangeTooSmall, total, MinSubIDs-1)
	}
	return f
}

func joinProblems(findings ...subIDFinding) string {
	var parts []string
	for _, f := range findings {
		if f.problem != nil {
			parts = append(parts, f.problem.Error())
		}
	}
	return strings.Join(parts, "; ")
}

// subIDFix returns the command that adds free to every file with a problem
// and removes ranges that contain the user's own id.
func subIDFix(id Identity, uids, gids subIDFinding, free SubIDRange) []string {
	if id.Name == "" {
		return subIDFixByUID(id, []subIDFinding{uids, gids}, free)
	}
	args := []string{"sudo", "usermod"}
	for _, f := range []subIDFinding{uids, gids} {
		if f.problem == nil {
			continue
		}
		kind := "subuids"
		if f.file == SubGIDFile {
			kind = "subgids"
		}
		for _, r := range f.overlaps {
			args = append(args, "--del-"+kind, formatRange(r))
		}
		args = append(args, "--add-"+kind, formatRange(free))
	}
	args = append(args, hostcheck.ShellQuote(id.Name))
	return []string{strings.Join(args, " ")}
}

// subIDFixByUID covers a uid without a passwd entry, which usermod cannot
// change: the files are keyed by the numeric uid instead.
func subIDFixByUID(id Identity, findings []subIDFinding, free SubIDRange) []string {
	var fix []string
	line := fmt.Sprintf("%d:%d:%d", id.UID, free.Start, free.Count)
	for _, f := range findings {
		if f.problem == nil {
			continue
		}
		for _, r := range f.overlaps {
			fix = append(fix, fmt.Sprintf("# remove the range %s of uid %d from %s", formatRange(r), id.UID, f.file))
		}
		fix = append(fix, fmt.Sprintf("echo %s | sudo tee -a %s", line, f.file))
	}
	return fix
}

func formatRange(r SubIDRange) string {
	return strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.End()-1, 10)
}

func formatRanges(ranges []SubIDRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = formatRange(r)
	}
	return strings.Join(parts, ",")
}
