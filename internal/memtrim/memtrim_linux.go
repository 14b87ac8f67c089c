// Package memtrim lowers the resident memory of long-lived gocker
// processes: the detached monitor and the port driver's child. Both are
// the whole gocker binary, most of which start-up touches and they never
// run again.
package memtrim

import (
	"bufio"
	"bytes"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Trim lowers the resident memory of a long-lived gocker process once its
// start-up work is done: it returns the free heap to the kernel and unmaps
// the pages of the gocker binary it has touched so far.
//
// Nearly the whole binary is resident after start-up: every package's
// initialization runs, and each page fault on a file maps the 64 KiB
// around it (fault-around) from the page cache. Those pages stay in the
// page cache, shared with every other gocker process; dropping them from
// this process's page tables with MADV_DONTNEED costs nothing, and the
// pages the monitor runs later fault back in. How much faults back in
// depends on the kernel: one fault maps a whole large folio of the page
// cache where the filesystem uses them.
func Trim() {
	mappings := executableMappings()
	// The collection runs before the pages are dropped, because it
	// reads the binary's tables (pclntab) for every stack it scans; it
	// also frees what reading smaps allocated.
	debug.FreeOSMemory()
	for _, m := range mappings {
		length := uintptr(m.end - m.start)
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), length, unix.MADV_DONTNEED)
	}
}

// executableMappings returns the read-only mappings of the running
// binary. A mapping with anonymous pages was written (a relocated
// read-only segment of a position-independent build) and is left out,
// because dropping those pages would undo the writes.
func executableMappings() []mapping {
	text := reflect.ValueOf(executableMappings).Pointer()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil
	}
	return binaryMappings(data, uint64(text))
}

// mapping is one line of /proc/PID/smaps with its Anonymous count.
type mapping struct {
	start, end uint64
	perms      string
	file       string // device and inode
	anonymous  int    // kB
}

// binaryMappings returns the read-only, never-written mappings of the file
// that contains the address text, from smaps data.
func binaryMappings(smaps []byte, text uint64) []mapping {
	var all []mapping
	scanner := bufio.NewScanner(bytes.NewReader(smaps))
	for scanner.Scan() {
		line := scanner.Text()
		if m, ok := parseMappingHeader(line); ok {
			all = append(all, m)
			continue
		}
		if v, ok := strings.CutPrefix(line, "Anonymous:"); ok && len(all) > 0 {
			all[len(all)-1].anonymous, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	var file string
	for _, m := range all {
		if m.start <= text && text < m.end {
			file = m.file
		}
	}
	var out []mapping
	for _, m := range all {
		if file != "" && m.file == file && m.anonymous == 0 && (m.perms == "r-xp" || m.perms == "r--p") {
			out = append(out, m)
		}
	}
	return out
}

// parseMappingHeader parses "start-end perms offset dev inode [path]".
func parseMappingHeader(line string) (mapping, bool) {
	fields := strings.Fields(line)
	if len(fields) < 5 || strings.HasSuffix(fields[0], ":") {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || fields[4] == "0" {
		return mapping{}, false
	}
	return mapping{start: start, end: end, perms: fields[1], file: fields[3] + " " + fields[4]}, true
}

// Limit is the resident size above which [Watch] trims again.
const Limit = 6 << 20

// Watch trims every interval while the process's resident size is above
// Limit, until stop is closed. Work such as forwarding connections faults
// pages of the binary back in, and trimming lets them go again once it
// paused.
func Watch(interval time.Duration, stop <-chan struct{}) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			if Resident() > Limit {
				Trim()
			}
		}
	}
}

// Resident returns the process's resident size in bytes (VmRSS of
// /proc/self/status), or 0 when it cannot be read.
func Resident() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
