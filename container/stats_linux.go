package container

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/gocker/gocker/cgroupv2"
)

// Usage is one sample of a running container's resource usage.
type Usage struct {
	cgroupv2.Usage
	// FromCgroup is true when the figures come from the container's
	// cgroup. Without one (a container without limits) they are those of
	// its processes from /proc: resident memory and the CPU time of the
	// live processes and the children they reaped.
	FromCgroup bool
	// Time is when the sample was taken.
	Time time.Time
}

// SampleUsage samples the usage of running container c.
func SampleUsage(c *Container) (Usage, error) {
	if c.State.Status != StatusRunning || c.State.Pid == 0 {
		return Usage{}, fmt.Errorf("container %s is not running", c.Name)
	}
	u := Usage{Time: time.Now()}
	var err error
	if c.HostConfig.Resources.Limited() {
		u.FromCgroup = true
		u.Usage, err = cgroupv2.ReadUsage(c.State.Pid)
	} else {
		u.Usage, err = processTreeUsage(c.State.Pid)
	}
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of container %s: %w", c.Name, err)
	}
	return u, nil
}

// processTreeUsage sums the usage of process pid and its descendants.
func processTreeUsage(pid int) (cgroupv2.Usage, error) {
	procs, err := readProcesses()
	if err != nil {
		return cgroupv2.Usage{}, err
	}
	var u cgroupv2.Usage
	tree := []int{pid}
	page := uint64(os.Getpagesize())
	for i := 0; i < len(tree); i++ {
		p, ok := procs[tree[i]]
		if !ok {
			continue
		}
		u.Pids++
		u.CPU += time.Duration(p.cpuTicks) * time.Second / clockTicks
		u.Memory += p.rssPages * page
		for child, cp := range procs {
			if cp.ppid == tree[i] {
				tree = append(tree, child)
			}
		}
	}
	if u.Pids == 0 {
		return u, fmt.Errorf("process %d is gone", pid)
	}
	return u, nil
}

// procStat contains the fields of /proc/PID/stat that processTreeUsage
// sums.
type procStat struct {
	ppid     int
	cpuTicks uint64 // utime + stime + cutime + cstime
	rssPages uint64
}

func readProcesses() (map[int]procStat, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	procs := make(map[int]procStat, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		if st, err := parseProcStat(data); err == nil {
			procs[pid] = st
		}
	}
	return procs, nil
}

// parseProcStat reads fields 4 (ppid), 14 to 17 (CPU times) and 24 (rss)
// of a /proc/PID/stat line (proc(5)), counting from the last ')' because
// the command name may contain spaces and parentheses.
func parseProcStat(stat []byte) (procStat, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed /proc stat line")
	}
	fields := bytes.Fields(stat[i+1:])
	// fields[0] is field 3 (state), so field N is fields[N-3].
	if len(fields) < 22 {
		return procStat{}, fmt.Errorf("malformed /proc stat line: %d fields", len(fields)+2)
	}
	num := func(n int) uint64 {
		v, _ := strconv.ParseUint(string(fields[n-3]), 10, 64)
		return v
	}
	return procStat{
		ppid:     int(num(4)),
		cpuTicks: num(14) + num(15) + num(16) + num(17),
		rssPages: num(24),
	}, nil
}
