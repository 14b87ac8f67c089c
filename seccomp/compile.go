package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Filter is a compiled seccomp filter, ready for seccomp(2).
type Filter struct {
	// Program holds the BPF instructions as struct sock_filter in native
	// byte order, 8 bytes each.
	Program []byte `json:"program"`
	// Flags are the SECCOMP_FILTER_FLAG_* flags that the profile requests.
	Flags uint `json:"flags,omitempty"`
}

// Len returns the number of instructions.
func (f *Filter) Len() int { return len(f.Program) / sockFilterSize }

// maxInstructions is BPF_MAXINSNS, the kernel's limit for one filter.
const maxInstructions = 4096

const sockFilterSize = 8

// Offsets in struct seccomp_data.
const (
	offsetNr   = 0
	offsetArch = 4
	offsetArgs = 16
)

// x32SyscallBit marks the system call numbers of the x32 ABI, which shares
// the audit architecture AUDIT_ARCH_X86_64 with x86_64.
const x32SyscallBit = 0x40000000

// abi is one system call ABI of the filter.
type abi struct {
	arch   specs.Arch
	family *syscallFamily
	// column is the ABI's column in family.numbers.
	column    int
	auditArch uint32
	// mask is set in every system call number: the x32 bit for x32.
	mask uint32
	// bits is the width of system call arguments: 32 or 64.
	bits int
}

func (a *abi) name() string { return a.family.abis[a.column] }

// abiOf returns the ABI of a profile architecture that runs on the native
// architecture goarch, or nil.
func abiOf(goarch string, a specs.Arch) *abi {
	switch goarch {
	case "amd64":
		switch a {
		case specs.ArchX86_64:
			return &abi{a, &familyAMD64, 0, unix.AUDIT_ARCH_X86_64, 0, 64}
		case specs.ArchX86:
			return &abi{a, &familyAMD64, 1, unix.AUDIT_ARCH_I386, 0, 32}
		case specs.ArchX32:
			return &abi{a, &familyAMD64, 2, unix.AUDIT_ARCH_X86_64, x32SyscallBit, 64}
		}
	case "arm64":
		switch a {
		case specs.ArchAARCH64:
			return &abi{a, &familyARM64, 0, unix.AUDIT_ARCH_AARCH64, 0, 64}
		case specs.ArchARM:
			return &abi{a, &familyARM64, 1, unix.AUDIT_ARCH_ARM, 0, 32}
		}
	}
	return nil
}

// knownArchs are the architectures that a profile may name, as the
// runtime specification lists them.
var knownArchs = []specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
	specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390,
	specs.ArchS390X, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64,
	specs.ArchLOONGARCH64, specs.ArchM68K, specs.ArchSH, specs.ArchSHEB,
}

// nativeArch returns the profile architecture of goarch.
func nativeArch(goarch string) specs.Arch {
	switch goarch {
	case "amd64":
		return specs.ArchX86_64
	case "arm64":
		return specs.ArchAARCH64
	}
	return ""
}

// rule is one profile entry for one system call number.
type rule struct {
	action uint32
	args   []specs.LinuxSeccompArg
}

// table is the part of the filter for one ABI.
type table struct {
	abi *abi
	// withX32 is set on the x86_64 table when it also holds the x32
	// numbers, the x32 bit cleared (see buildTables).
	withX32 bool
	// rules are the rules of all tables, in profile order.
	rules []rule
	// keys are nr<<32 | index into rules, one for each system call
	// number of a rule, sorted: by number, then in profile order.
	keys []uint64
}

func keyNr(key uint64) uint32 { return uint32(key >> 32) }

func (t *table) keyRule(key uint64) rule { return t.rules[uint32(key)] }

// Compile translates resolved profile rules (see [Resolve]) into a BPF
// program for this machine's architecture.
func Compile(cfg *specs.LinuxSeccomp) (*Filter, error) {
	if cfg.ListenerPath != "" {
		return nil, fmt.Errorf("listenerPath is not supported: gocker has no seccomp agent")
	}
	flags, err := filterFlags(cfg.Flags)
	if err != nil {
		return nil, err
	}
	if cfg.DefaultAction == "" {
		return nil, errors.New("defaultAction is missing: give the action for system calls that no rule names, such as SCMP_ACT_ERRNO")
	}
	defaultAction, err := actionValue(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	tables, err := buildTables(cfg)
	if err != nil {
		return nil, err
	}
	prog, err := assemble(tables, defaultAction)
	if err != nil {
		return nil, err
	}
	if len(prog) > maxInstructions {
		return nil, fmt.Errorf("seccomp profile compiles to %d BPF instructions, more than the kernel's limit of %d: list fewer rules", len(prog), maxInstructions)
	}
	out := make([]byte, 0, len(prog)*sockFilterSize)
	for _, ins := range prog {
		out = binary.NativeEndian.AppendUint16(out, ins.Op)
		out = append(out, ins.Jt, ins.Jf)
		out = binary.NativeEndian.AppendUint32(out, ins.K)
	}
	return &Filter{Program: out, Flags: flags}, nil
}

// buildTables sorts the profile's rules into one table per ABI that the
// profile covers: the native one, and the profile's architectures that run
// on this machine.
func buildTables(cfg *specs.LinuxSeccomp) ([]*table, error) {
	native := abiOf(runtime.GOARCH, nativeArch(runtime.GOARCH))
	if native == nil {
		return nil, fmt.Errorf("seccomp filters are not supported on %s: gocker's filter compiler supports amd64 and arm64", runtime.GOARCH)
	}

	// libseccomp always filters the native ABI, listed or not. An
	// architecture of another family never appears on this machine's
	// kernel, so it needs no part of the filter.
	//
	// x32 shares the x86_64 table, which saves a third of the filter's
	// instructions: the kernel needs about 0.2 µs per instruction to load
	// a filter. x32 calls x86_64's numbers for the system calls that the
	// two ABIs share, and numbers from 512 on, which x86_64 lacks, for the
	// others. Since Linux 5.4 the kernel returns ENOSYS for a number that
	// the caller's ABI lacks, so with the x32 bit cleared, x32 system
	// calls can go through x86_64's search with x32's own numbers added.
	tables := []*table{{abi: native}}
	for _, a := range cfg.Architectures {
		if !slices.Contains(knownArchs, a) {
			return nil, fmt.Errorf("unknown architecture %q: use names such as SCMP_ARCH_X86_64, SCMP_ARCH_X86 or SCMP_ARCH_AARCH64", a)
		}
		other := abiOf(runtime.GOARCH, a)
		switch {
		case other == nil || slices.ContainsFunc(tables, func(t *table) bool { return t.abi.column == other.column }):
		case a == specs.ArchX32:
			tables[0].withX32 = true
		default:
			tables = append(tables, &table{abi: other})
		}
	}

	x32 := abiOf(runtime.GOARCH, specs.ArchX32)
	rules := make([]rule, 0, 2*len(cfg.Syscalls))
	for _, t := range tables {
		// Docker's default profile names about 450 system calls.
		t.keys = make([]uint64, 0, 512)
	}

	for i, call := range cfg.Syscalls {
		action, err := actionValue(call.Action, call.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("syscall rule %d %v: %w", i, call.Names, err)
		}
		if err := checkArgs(call.Args); err != nil {
			return nil, fmt.Errorf("syscall rule %d %v: %w", i, call.Names, err)
		}
		first := len(rules)
		rules = appendRules(rules, call.Args, action)
		for _, name := range call.Names {
			row, ok := native.family.lookup(name)
			if !ok {
				continue
			}
			for _, t := range tables {
				nums := [2]int32{native.family.numbers[row][t.abi.column], -1}
				if t.withX32 && native.family.numbers[row][x32.column] != nums[0] {
					nums[1] = native.family.numbers[row][x32.column]
				}
				for _, num := range nums {
					if num < 0 {
						continue
					}
					nr := uint64(uint32(num) | t.abi.mask)
					for r := first; r < len(rules); r++ {
						t.keys = append(t.keys, nr<<32|uint64(r))
					}
				}
			}
		}
	}

	for _, t := range tables {
		t.rules = rules
		sortKeys(t.keys)
	}
	return tables, nil
}

// appendRules appends the rules of one profile entry. Conditions on
// different arguments must all hold. Two or more conditions on the same
// argument make each condition a rule of its own, so that any one of them
// suffices: runc, which runs Docker's containers, adds such an entry that
// way, because libseccomp cannot join conditions on one argument.
func appendRules(rules []rule, args []specs.LinuxSeccompArg, action uint32) []rule {
	var seen [6]bool
	repeated := false
	for _, a := range args {
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
	}
	if !repeated {
		return append(rules, rule{action: action, args: args})
	}
	for i := range args {
		rules = append(rules, rule{action: action, args: args[i : i+1]})
	}
	return rules
}

func checkArgs(args []specs.LinuxSeccompArg) error {
	for _, a := range args {
		if a.Index > 5 {
			return fmt.Errorf("argument index %d out of range: system calls have arguments 0 to 5", a.Index)
		}
		switch a.Op {
		case specs.OpEqualTo, specs.OpNotEqual, specs.OpGreaterThan, specs.OpGreaterEqual,
			specs.OpLessThan, specs.OpLessEqual, specs.OpMaskedEqual:
		default:
			return fmt.Errorf("unknown operator %q", a.Op)
		}
	}
	return nil
}

// actionValue returns the SECCOMP_RET_* value of a profile action. An
// errno or trace action without errnoRet returns EPERM, as in runc.
func actionValue(action specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		if action != specs.ActErrno && action != specs.ActTrace {
			return 0, fmt.Errorf("errnoRet is only valid with %s and %s, not %s", specs.ActErrno, specs.ActTrace, action)
		}
		if *errnoRet > 0xffff {
			return 0, fmt.Errorf("errnoRet %d out of range", *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch action {
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data, nil
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	case specs.ActNotify:
		return 0, fmt.Errorf("%s is not supported: gocker has no seccomp agent", action)
	}
	return 0, fmt.Errorf("unknown action %q", action)
}

func filterFlags(names []specs.LinuxSeccompFlag) (uint, error) {
	var flags uint
	for _, name := range names {
		switch name {
		case specs.LinuxSeccompFlagLog:
			flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case "SECCOMP_FILTER_FLAG_TSYNC":
			flags |= unix.SECCOMP_FILTER_FLAG_TSYNC
		default:
			return 0, fmt.Errorf("flag %q is not supported: use SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW or SECCOMP_FILTER_FLAG_TSYNC", name)
		}
	}
	return flags, nil
}

// syscallFamily holds the system call tables of the ABIs that run on one
// native architecture (ztables.go).
type syscallFamily struct {
	abis [3]string
	// names are sorted; numbers[i] are the numbers of names[i] in each
	// ABI, -1 where the ABI lacks it.
	names   []string
	numbers [][3]int32
}

// lookup returns the row of name in f.numbers.
func (f *syscallFamily) lookup(name string) (int, bool) {
	return slices.BinarySearch(f.names, name)
}

// sortKeys sorts keys by number, then rule. It counts the numbers when
// they are below 4096, as all but arm's private system calls are: keys
// are added in rule order, which a counting sort keeps for each number.
func sortKeys(keys []uint64) {
	const maxCounted = 4096
	top := uint32(0)
	for _, key := range keys {
		top = max(top, keyNr(key)&^x32SyscallBit)
	}
	if top >= maxCounted || len(keys) == 0 {
		slices.Sort(keys)
		return
	}
	// The x32 bit is the same in all keys of a table.
	var starts [maxCounted + 1]uint32
	for _, key := range keys {
		starts[keyNr(key)&^x32SyscallBit+1]++
	}
	for i := 1; i <= int(top)+1; i++ {
		starts[i] += starts[i-1]
	}
	sorted := make([]uint64, len(keys))
	for _, key := range keys {
		n := keyNr(key) &^ x32SyscallBit
		sorted[starts[n]] = key
		starts[n]++
	}
	copy(keys, sorted)
}
