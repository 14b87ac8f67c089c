package cgroupv2

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Resources are the resource limits of a container, as the run flags set
// them. A zero field sets no limit. The JSON names are those of Docker's
// HostConfig, where "docker inspect" shows them.
type Resources struct {
	// Memory is the memory limit in bytes.
	Memory int64 `json:"Memory"`
	// MemorySwap is the limit of memory plus swap in bytes, -1 for
	// unlimited swap. Zero with Memory set allows as much swap as memory,
	// as Docker does.
	MemorySwap int64 `json:"MemorySwap"`
	// NanoCPUs is the CPU time limit in billionths of a CPU.
	NanoCPUs int64 `json:"NanoCpus"`
	// CPUShares is the relative CPU weight of cgroup v1, 2 to 262144.
	CPUShares int64 `json:"CpuShares"`
	// CpusetCpus lists the CPUs the container may run on, such as "0-2,4".
	CpusetCpus string `json:"CpusetCpus"`
	// PidsLimit is the maximum number of tasks; -1 is unlimited.
	PidsLimit int64 `json:"PidsLimit"`
}

// Limits of the values, as Docker and the kernel set them.
const (
	// MinMemory is Docker's smallest memory limit: below it, the
	// container's init cannot start.
	MinMemory = 6 << 20
	// MinCPUShares and MaxCPUShares bound cpu.shares of cgroup v1.
	MinCPUShares = 2
	MaxCPUShares = 262144
	// CPUPeriod is the CFS period, in microseconds, that --cpus divides;
	// it is the kernel's default for cpu.max and cpu.cfs_period_us.
	CPUPeriod = 100000
	// minCPUQuota is the kernel's smallest CFS quota: 1ms.
	minCPUQuota = 1000
)

// Limited reports whether r sets any limit, which is when a container
// gets a cgroup of its own.
func (r Resources) Limited() bool {
	return r.Memory != 0 || r.MemorySwap != 0 || r.NanoCPUs != 0 || r.CPUShares != 0 ||
		r.CpusetCpus != "" || r.PidsLimit != 0
}

// Controllers returns the cgroup controllers that enforce r, sorted.
func (r Resources) Controllers() []string {
	var c []string
	if r.NanoCPUs != 0 || r.CPUShares != 0 {
		c = append(c, "cpu")
	}
	if r.CpusetCpus != "" {
		c = append(c, "cpuset")
	}
	if r.Memory != 0 || r.MemorySwap != 0 {
		c = append(c, "memory")
	}
	if r.PidsLimit != 0 {
		c = append(c, "pids")
	}
	return c
}

// flagsFor returns the run flags of r that need controller.
func (r Resources) flagsFor(controller string) []string {
	var flags []string
	add := func(set bool, flag string) {
		if set {
			flags = append(flags, flag)
		}
	}
	switch controller {
	case "cpu":
		add(r.NanoCPUs != 0, "--cpus")
		add(r.CPUShares != 0, "--cpu-shares")
	case "cpuset":
		add(r.CpusetCpus != "", "--cpuset-cpus")
	case "memory":
		add(r.Memory != 0, "--memory")
		add(r.MemorySwap != 0, "--memory-swap")
	case "pids":
		add(r.PidsLimit != 0, "--pids-limit")
	}
	return flags
}

// Validate checks r against Docker's rules and the host's CPUs, given as
// the list of online CPUs (/sys/devices/system/cpu/online).
func (r Resources) Validate(onlineCPUs []int) error {
	if r.Memory < 0 {
		return fmt.Errorf("invalid --memory %d: it must be positive", r.Memory)
	}
	if r.Memory > 0 && r.Memory < MinMemory {
		return fmt.Errorf("invalid --memory %s: the minimum is 6m", formatBytes(r.Memory))
	}
	switch {
	case r.MemorySwap < -1:
		return fmt.Errorf("invalid --memory-swap %d: use a size of at least --memory, or -1 for unlimited swap", r.MemorySwap)
	case r.MemorySwap != 0 && r.Memory == 0:
		return fmt.Errorf("invalid --memory-swap %s: it limits memory plus swap, so it needs --memory too", formatSwap(r.MemorySwap))
	case r.MemorySwap > 0 && r.MemorySwap < r.Memory:
		return fmt.Errorf("invalid --memory-swap %s: it is memory plus swap and must be at least --memory %s",
			formatBytes(r.MemorySwap), formatBytes(r.Memory))
	}
	if err := validateCPUs(r.NanoCPUs, len(onlineCPUs)); err != nil {
		return err
	}
	if r.CPUShares != 0 && (r.CPUShares < MinCPUShares || r.CPUShares > MaxCPUShares) {
		return fmt.Errorf("invalid --cpu-shares %d: use %d to %d (1024 is the default weight)", r.CPUShares, MinCPUShares, MaxCPUShares)
	}
	if r.CpusetCpus != "" {
		cpus, err := ParseCPUList(r.CpusetCpus)
		if err != nil {
			return fmt.Errorf("invalid --cpuset-cpus %q: %w", r.CpusetCpus, err)
		}
		for _, c := range cpus {
			if !slices.Contains(onlineCPUs, c) {
				return fmt.Errorf("invalid --cpuset-cpus %q: CPU %d is not online (online: %s)", r.CpusetCpus, c, FormatCPUList(onlineCPUs))
			}
		}
	}
	if r.PidsLimit < -1 {
		return fmt.Errorf("invalid --pids-limit %d: use a positive number, or -1 for unlimited", r.PidsLimit)
	}
	return nil
}

func validateCPUs(nano int64, online int) error {
	if nano == 0 {
		return nil
	}
	cpus := formatCPUs(nano)
	if nano < 0 {
		return fmt.Errorf("invalid --cpus %s: it must be positive", cpus)
	}
	if nano*CPUPeriod/1e9 < minCPUQuota {
		return fmt.Errorf("invalid --cpus %s: the minimum is 0.01", cpus)
	}
	if online > 0 && nano > int64(online)*1e9 {
		return fmt.Errorf("invalid --cpus %s: this host has %d CPUs online, so use at most %d", cpus, online, online)
	}
	return nil
}

// formatCPUs formats nano billionths of a CPU as the shortest decimal,
// "999" or "0.5", which is the user's --cpus text unless it had extra
// zeros.
func formatCPUs(nano int64) string {
	text := big.NewRat(nano, 1e9).FloatString(9)
	text = strings.TrimRight(text, "0")
	return strings.TrimSuffix(text, ".")
}

// sizePattern matches a size with an optional unit: 64m, 1.5g, 512k, 100,
// 64MiB. It is compiled on first use, so that processes that parse no size
// (every container init) do not pay for it.
var sizePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([bkmgt])?(?:i?b)?$`)
})

// ParseMemory parses a size in bytes with an optional unit: b, k, m, g or
// t, in powers of 1024 as Docker reads them, case-insensitive and with an
// optional "b" or "ib" after the unit ("64m", "64MB", "1.5GiB").
func ParseMemory(s string) (int64, error) {
	m := sizePattern().FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: use a number with an optional unit b, k, m or g, such as 64m", s)
	}
	shift := map[string]uint{"": 0, "b": 0, "k": 10, "m": 20, "g": 30, "t": 40}[m[2]]
	value, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	value.Mul(value, new(big.Rat).SetInt64(1<<shift))
	// A fractional byte count rounds down, as Docker's parser does.
	bytes := new(big.Int).Quo(value.Num(), value.Denom())
	if !bytes.IsInt64() {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return bytes.Int64(), nil
}

// ParseMemorySwap parses --memory-swap: a size as [ParseMemory] reads it,
// or -1 for unlimited swap.
func ParseMemorySwap(s string) (int64, error) {
	if strings.TrimSpace(s) == "-1" {
		return -1, nil
	}
	return ParseMemory(s)
}

// ParseCPUs parses --cpus, a decimal number of CPUs such as 0.5, into
// billionths of a CPU.
func ParseCPUs(s string) (int64, error) {
	value, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok || strings.ContainsAny(s, "/eE") {
		return 0, fmt.Errorf("%q is not a number of CPUs, such as 1.5", s)
	}
	value.Mul(value, big.NewRat(1e9, 1))
	if !value.IsInt() {
		return 0, fmt.Errorf("%q has more than 9 decimal places", s)
	}
	if !value.Num().IsInt64() {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return value.Num().Int64(), nil
}

// ParseCPUList parses a CPU list such as "0-2,4" (cpuset(7), "List
// format") into sorted CPU numbers without duplicates.
func ParseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("%q is not a CPU number or range such as 0-3", part)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				return nil, fmt.Errorf("%q is not a CPU range such as 0-3", part)
			}
		}
		if last >= 8192 {
			return nil, fmt.Errorf("CPU %d is beyond the kernel's limit", last)
		}
		for c := first; c <= last; c++ {
			cpus = append(cpus, c)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// FormatCPUList formats sorted CPU numbers as a list with ranges.
func FormatCPUList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(cpus[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// CPUWeight converts cgroup v1 cpu.shares (2 to 262144) to cgroup v2
// cpu.weight (1 to 10000) with the linear mapping runc and crun use, so
// that the default 1024 shares become weight 39.
func CPUWeight(shares int64) uint64 {
	return uint64(1 + ((shares-2)*9999)/262142)
}

// CPUQuota returns the CFS quota in microseconds per [CPUPeriod] for a
// limit of nano billionths of a CPU.
func CPUQuota(nano int64) int64 {
	return nano * CPUPeriod / 1e9
}

// SwapLimit returns the swap that r allows on top of its memory limit, in
// bytes: cgroup v2's memory.swap.max. unlimited is true for -1. explicit
// is false when --memory-swap was not given and the swap follows Docker's
// default of as much swap as memory.
func (r Resources) SwapLimit() (swap int64, unlimited, explicit bool) {
	switch {
	case r.MemorySwap == -1:
		return 0, true, true
	case r.MemorySwap > 0:
		return r.MemorySwap - r.Memory, false, true
	}
	return r.Memory, false, false
}

func formatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"g", 30}, {"m", 20}, {"k", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func formatSwap(n int64) string {
	if n == -1 {
		return "-1"
	}
	return formatBytes(n)
}
