package container

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/user"
)

// Top lists the processes of the running container c: every process in
// its PID namespace, with host pids, read from /proc.
func (s *Store) Top(c *Container) ([]TopProcess, error) {
	if !c.State.Running() || !processMatches(c.State.Pid, c.State.PidStartTime) {
		return nil, fmt.Errorf("%w: %s", ErrNotRunning, c.Name)
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.State.Pid))
	if err != nil {
		return nil, fmt.Errorf("read the container's PID namespace: %w", err)
	}
	bootTime, err := readBootTime()
	if err != nil {
		return nil, err
	}
	names := hostUserNames()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var procs []TopProcess
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// Processes of other users cannot be read, and are not the
		// container's: its processes belong to the caller or to ids
		// of the caller's user namespace.
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil || link != ns {
			continue
		}
		p, err := readTopProcess(pid, bootTime, now, names)
		if err != nil {
			continue // exited meanwhile
		}
		procs = append(procs, p)
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].PID < procs[j].PID })
	return procs, nil
}

func readTopProcess(pid int, bootTime, now time.Time, names map[int]string) (TopProcess, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return TopProcess{}, err
	}
	fields, err := statFields(stat)
	if err != nil {
		return TopProcess{}, err
	}
	num := func(i int) uint64 {
		n, _ := strconv.ParseUint(string(fields[i]), 10, 64)
		return n
	}
	// fields[i] is field i+3 of proc(5): ppid 4, tty_nr 7, utime 14,
	// stime 15, starttime 22.
	cpu := num(11) + num(12)
	start := bootTime.Add(time.Duration(num(19)) * time.Second / clockTicks)
	p := TopProcess{
		PID:   pid,
		PPID:  int(num(1)),
		C:     cpuPercent(cpu, now.Sub(start)),
		STIME: formatStartTime(start, now),
		TTY:   formatTTY(num(4)),
		TIME:  formatCPUTime(cpu),
		CMD:   readCommandLine(dir, stat),
	}
	uid, err := readRealUID(filepath.Join(dir, "status"))
	if err != nil {
		return TopProcess{}, err
	}
	p.UID = strconv.Itoa(uid)
	if name, ok := names[uid]; ok {
		p.UID = name
	}
	return p, nil
}

// readCommandLine returns the process's arguments joined by spaces, or
// its name in brackets when it has none (a kernel thread or a zombie), as
// ps does.
func readCommandLine(dir string, stat []byte) string {
	data, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
	data = bytes.TrimRight(data, "\x00")
	if len(data) > 0 {
		return string(bytes.ReplaceAll(data, []byte{0}, []byte{' '}))
	}
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "?"
	}
	return "[" + string(stat[open+1:end]) + "]"
}

func readRealUID(statusPath string) (int, error) {
	data, err := os.ReadFile(statusPath)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			fields := strings.Fields(v)
			if len(fields) > 0 {
				return strconv.Atoi(fields[0])
			}
		}
	}
	return 0, fmt.Errorf("%s: no Uid line", statusPath)
}

// readBootTime returns the time the system booted, from btime in
// /proc/stat.
func readBootTime() (time.Time, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				break
			}
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("/proc/stat has no btime line")
}

// hostUserNames maps the uids of the host's /etc/passwd to names.
func hostUserNames() map[int]string {
	names := map[int]string{}
	users, err := user.ParsePasswdFile("/etc/passwd")
	if err != nil {
		return names
	}
	for _, u := range users {
		if _, ok := names[u.Uid]; !ok {
			names[u.Uid] = u.Name
		}
	}
	return names
}
