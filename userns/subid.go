package userns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Subordinate id files, as shadow-utils' newuidmap and newgidmap read them.
const (
	SubUIDFile = "/etc/subuid"
	SubGIDFile = "/etc/subgid"
)

// SubIDRange is one line of /etc/subuid or /etc/subgid: Count ids starting
// at Start that the owner may map into a user namespace.
type SubIDRange struct {
	Start int64
	Count int64
}

// End returns the first id after the range.
func (r SubIDRange) End() int64 { return r.Start + r.Count }

// SubIDEntry is a parsed line together with the key it was filed under,
// which is a user name or a numeric uid.
type SubIDEntry struct {
	Owner string
	SubIDRange
}

// ParseSubIDs reads a subordinate id file. Blank lines and lines starting
// with '#' are skipped. A malformed line is an error naming its number:
// newuidmap skips such lines and moby/sys/user's ParseSubID reads them as
// zero values, and either way the user is left guessing why a range is
// missing.
func ParseSubIDs(r io.Reader) ([]SubIDEntry, error) {
	var entries []SubIDEntry
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) != 3 || fields[0] == "" {
			return nil, fmt.Errorf("line %d: %q is not OWNER:START:COUNT", n, line)
		}
		start, err1 := strconv.ParseInt(fields[1], 10, 64)
		count, err2 := strconv.ParseInt(fields[2], 10, 64)
		if err1 != nil || err2 != nil || start < 0 || count <= 0 || start+count > 1<<32 {
			return nil, fmt.Errorf("line %d: %q has an invalid START or COUNT", n, line)
		}
		entries = append(entries, SubIDEntry{Owner: fields[0], SubIDRange: SubIDRange{Start: start, Count: count}})
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return entries, nil
}

// RangesFor returns, in file order, the ranges filed under the user's name or
// numeric uid. Both keys are valid in shadow-utils.
func RangesFor(entries []SubIDEntry, name string, uid int) []SubIDRange {
	uidKey := strconv.Itoa(uid)
	var ranges []SubIDRange
	for _, e := range entries {
		if (name != "" && e.Owner == name) || e.Owner == uidKey {
			ranges = append(ranges, e.SubIDRange)
		}
	}
	return ranges
}

// SuggestFreeRange returns a range of count ids that starts at or above
// 100000 (shadow-utils' default SUB_UID_MIN) and overlaps no entry, for use
// in the fix that error messages print.
func SuggestFreeRange(entries []SubIDEntry, count int64) SubIDRange {
	start := int64(100000)
	for _, e := range entries {
		if e.End() > start {
			start = e.End()
		}
	}
	return SubIDRange{Start: start, Count: count}
}

func readSubIDFile(path string) ([]SubIDEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := ParseSubIDs(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return entries, nil
}
