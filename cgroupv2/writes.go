package cgroupv2

import "strconv"

// write is one value written to one cgroup interface file.
type write struct {
	file, value string
}

// V1Writes returns the interface files and values that enforce r in a
// cgroup v1 hierarchy of controller, in the order to write them. cpuset
// also needs the parent's memory nodes, which only the host can tell.
func V1Writes(controller string, r Resources) []write {
	var w []write
	switch controller {
	case "memory":
		if r.Memory <= 0 {
			return nil
		}
		// The memory limit goes first: memsw may not be below it.
		w = append(w, write{"memory.limit_in_bytes", strconv.FormatInt(r.Memory, 10)})
		swap, unlimited, _ := r.SwapLimit()
		memsw := strconv.FormatInt(r.Memory+swap, 10)
		if unlimited {
			memsw = "-1"
		}
		w = append(w, write{"memory.memsw.limit_in_bytes", memsw})
	case "cpu":
		if r.NanoCPUs > 0 {
			w = append(w,
				write{"cpu.cfs_period_us", strconv.Itoa(CPUPeriod)},
				write{"cpu.cfs_quota_us", strconv.FormatInt(CPUQuota(r.NanoCPUs), 10)})
		}
		if r.CPUShares > 0 {
			w = append(w, write{"cpu.shares", strconv.FormatInt(r.CPUShares, 10)})
		}
	case "cpuset":
		if r.CpusetCpus != "" {
			w = append(w, write{"cpuset.cpus", r.CpusetCpus})
		}
	case "pids":
		switch {
		case r.PidsLimit > 0:
			w = append(w, write{"pids.max", strconv.FormatInt(r.PidsLimit, 10)})
		case r.PidsLimit == -1:
			w = append(w, write{"pids.max", "max"})
		}
	}
	return w
}
