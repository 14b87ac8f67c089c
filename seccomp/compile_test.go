//go:build linux && amd64

package seccomp

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// dockerDefaultCaps is Docker's default capability set.
var dockerDefaultCaps = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE",
	"CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

const (
	auditArchX86_64  = 0xc000003e
	auditArchI386    = 0x40000003
	auditArchAARCH64 = 0xc00000b7
)

// addrNoRandomize is the personality flag ADDR_NO_RANDOMIZE, which
// Docker's profile does not allow to set.
const addrNoRandomize = 0x0040000

const (
	retAllow  = unix.SECCOMP_RET_ALLOW
	retEPERM  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	retKill   = unix.SECCOMP_RET_KILL_PROCESS
)

// vm runs a compiled filter on struct seccomp_data in x/net/bpf's
// interpreter.
type vm struct {
	t  *testing.T
	vm *bpf.VM
}

func newVM(t *testing.T, f *Filter) *vm {
	t.Helper()
	v, err := f.interpreter()
	if err != nil {
		t.Fatalf("load the filter into the BPF interpreter: %v", err)
	}
	return &vm{t: t, vm: v}
}

// run returns the filter's result for a system call.
func (v *vm) run(auditArch, nr uint32, args ...uint64) uint32 {
	v.t.Helper()
	out, err := v.vm.Run(seccompData(auditArch, nr, args...))
	if err != nil {
		v.t.Fatalf("run the filter: %v", err)
	}
	return uint32(out)
}

// compileDefault compiles Docker's default profile for caps.
func compileDefault(t *testing.T, caps []string) *Filter {
	t.Helper()
	return compileBytes(t, nil, caps)
}

func compileProfile(t *testing.T, profile string, caps []string) *Filter {
	t.Helper()
	return compileBytes(t, []byte(profile), caps)
}

// compileBytes resolves and compiles profile, where nil is Docker's
// default profile.
func compileBytes(t *testing.T, profile []byte, caps []string) *Filter {
	t.Helper()
	cfg, err := Resolve(profile, caps)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// nr returns the number of a system call by elastic's table. Where x32's
// table has two numbers for a name, x32 programs call the one from 512 on.
func nr(t *testing.T, info *arch.Info, name string) uint32 {
	t.Helper()
	found := -1
	for n, s := range info.SyscallNumbers {
		if s == name {
			found = max(found, n)
		}
	}
	if found < 0 {
		t.Fatalf("no system call %s on %s", name, info.Name)
	}
	return uint32(found | info.SeccompMask)
}

type call struct {
	name string
	args []uint64
	want uint32
}

func checkCalls(t *testing.T, v *vm, auditArch uint32, info *arch.Info, calls []call) {
	t.Helper()
	for _, c := range calls {
		if got := v.run(auditArch, nr(t, info, c.name), c.args...); got != c.want {
			t.Errorf("%s %s%v: got %#x, want %#x", info.Name, c.name, c.args, got, c.want)
		}
	}
}

func TestDefaultProfileX86_64(t *testing.T) {
	v := newVM(t, compileDefault(t, dockerDefaultCaps))
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{
		{"read", nil, retAllow},
		{"execve", nil, retAllow},
		{"exit_group", nil, retAllow},
		{"keyctl", nil, retEPERM},
		{"add_key", nil, retEPERM},
		{"request_key", nil, retEPERM},
		{"unshare", []uint64{unix.CLONE_NEWUSER}, retEPERM},
		{"setns", nil, retEPERM},
		{"mount", nil, retEPERM},
		{"kexec_load", nil, retEPERM},
		{"bpf", nil, retEPERM},
		{"ptrace", nil, retAllow}, // allowed from kernel 4.8 on
		{"clone", []uint64{uint64(unix.SIGCHLD)}, retAllow},
		{"clone", []uint64{unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD}, retAllow},
		{"clone", []uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}, retEPERM},
		{"clone", []uint64{unix.CLONE_NEWNS}, retEPERM},
		{"clone3", nil, retENOSYS},
		{"personality", []uint64{0}, retAllow},
		{"personality", []uint64{0x8}, retAllow},
		{"personality", []uint64{0x20008}, retAllow},
		{"personality", []uint64{0xffffffff}, retAllow},
		{"personality", []uint64{addrNoRandomize}, retEPERM},
		// The high word counts on a 64-bit ABI.
		{"personality", []uint64{1 << 32}, retEPERM},
		{"socket", []uint64{unix.AF_UNIX}, retAllow},
		{"socket", []uint64{unix.AF_INET}, retAllow},
		{"socket", []uint64{unix.AF_INET6}, retAllow},
		{"socket", []uint64{unix.AF_NETLINK}, retAllow},
		{"socket", []uint64{unix.AF_PACKET}, retAllow},
		{"socket", []uint64{unix.AF_VSOCK}, retEPERM},
		{"socket", []uint64{unix.AF_ALG}, retEPERM},
		{"socket", []uint64{unix.AF_UNSPEC}, retAllow}, // below AF_UNIX's range end, as in Docker's profile
		{"socket", []uint64{unix.AF_INET | 1<<32}, retEPERM},
	})
	// Numbers above every system call that the profile names return
	// ENOSYS, in a gap between names EPERM.
	if got := v.run(auditArchX86_64, 1000); got != retENOSYS {
		t.Errorf("x86_64 system call 1000: got %#x, want ENOSYS", got)
	}
}

func TestDefaultProfileCompatABIs(t *testing.T) {
	v := newVM(t, compileDefault(t, dockerDefaultCaps))
	checkCalls(t, v, auditArchI386, arch.I386, []call{
		{"getpid", nil, retAllow},
		{"socketcall", nil, retAllow},
		{"keyctl", nil, retEPERM},
		{"unshare", nil, retEPERM},
		{"personality", []uint64{0x8}, retAllow},
		{"personality", []uint64{addrNoRandomize}, retEPERM},
		{"clone", []uint64{unix.CLONE_NEWUSER}, retEPERM},
		{"clone", []uint64{uint64(unix.SIGCHLD)}, retAllow},
	})
	checkCalls(t, v, auditArchX86_64, arch.X32, []call{
		{"read", nil, retAllow},
		{"execve", nil, retAllow},
		{"keyctl", nil, retEPERM},
		{"personality", []uint64{addrNoRandomize}, retEPERM},
	})
	// Numbers between x86_64's last system call and x32's own belong to
	// newer system calls. x32's own numbers that the profile does not
	// name get the default action.
	if got := v.run(auditArchX86_64, 500); got != retENOSYS {
		t.Errorf("x86_64 system call 500: got %#x, want ENOSYS", got)
	}
	if got := v.run(auditArchX86_64, x32SyscallBit|500); got != retENOSYS {
		t.Errorf("x32 system call 500: got %#x, want ENOSYS", got)
	}
	checkCalls(t, v, auditArchX86_64, arch.X32, []call{{"kexec_load", nil, retEPERM}})
	if got := v.run(auditArchAARCH64, 63); got != retKill {
		t.Errorf("aarch64 read: got %#x, want SECCOMP_RET_KILL_PROCESS", got)
	}
}

func TestDefaultProfileSysAdmin(t *testing.T) {
	caps := append([]string{"CAP_SYS_ADMIN"}, dockerDefaultCaps...)
	v := newVM(t, compileDefault(t, caps))
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{
		{"unshare", nil, retAllow},
		{"mount", nil, retAllow},
		{"setns", nil, retAllow},
		{"clone", []uint64{unix.CLONE_NEWUSER}, retAllow},
		{"clone3", nil, retAllow},
		{"keyctl", nil, retEPERM},
	})
}

func TestDefaultProfileDroppedCaps(t *testing.T) {
	// Without CAP_SYS_CHROOT, chroot is not allowed.
	v := newVM(t, compileDefault(t, []string{"CAP_CHOWN"}))
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{
		{"chroot", nil, retEPERM},
		{"read", nil, retAllow},
	})
	v = newVM(t, compileDefault(t, dockerDefaultCaps))
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{{"chroot", nil, retAllow}})
}

func TestDefaultProfileSize(t *testing.T) {
	f := compileDefault(t, dockerDefaultCaps)
	if f.Len() > maxInstructions/2 {
		t.Errorf("default profile compiles to %d instructions", f.Len())
	}
	t.Logf("default profile: %d instructions", f.Len())
}

const argsProfile = `{
	"defaultAction": "SCMP_ACT_ALLOW",
	"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
	"syscalls": [
		{"names": ["keyctl", "no_such_syscall_yet"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
		{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
		{"names": ["dup"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4294967297, "op": "SCMP_CMP_GT"}]},
		{"names": ["dup2"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 4294967297, "op": "SCMP_CMP_LE"}]},
		{"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 2, "value": 4294967297, "op": "SCMP_CMP_GE"}]},
		{"names": ["close"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4294967297, "op": "SCMP_CMP_LT"}]},
		{"names": ["fsync"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 7, "op": "SCMP_CMP_NE"}]},
		{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 4294967295, "valueTwo": 21505, "op": "SCMP_CMP_MASKED_EQ"}]},
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [
			{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
			{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}
		]},
		{"names": ["tkill"], "action": "SCMP_ACT_ERRNO", "args": [
			{"index": 0, "value": 10, "op": "SCMP_CMP_LT"},
			{"index": 0, "value": 100, "op": "SCMP_CMP_GT"}
		]}
	]
}`

func TestProfileArguments(t *testing.T) {
	v := newVM(t, compileProfile(t, argsProfile, nil))
	const big = 1<<32 | 1 // 4294967297
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{
		{"keyctl", nil, retENOSYS},
		{"getpid", nil, retEPERM},
		{"read", nil, retAllow},
		{"dup", []uint64{big + 1}, retEPERM},
		{"dup", []uint64{big}, retAllow},
		{"dup", []uint64{2 << 32}, retEPERM},
		{"dup", []uint64{0xffffffff}, retAllow},
		{"dup2", []uint64{0, big}, retEPERM},
		{"dup2", []uint64{0, 0xffffffff}, retEPERM},
		{"dup2", []uint64{0, big + 1}, retAllow},
		{"dup2", []uint64{0, 2 << 32}, retAllow},
		{"dup3", []uint64{0, 0, big}, retEPERM},
		{"dup3", []uint64{0, 0, big - 1}, retAllow},
		{"dup3", []uint64{0, 0, 1 << 33}, retEPERM},
		{"close", []uint64{big - 1}, retEPERM},
		{"close", []uint64{big}, retAllow},
		{"close", []uint64{1 << 33}, retAllow},
		{"close", []uint64{5}, retEPERM},
		{"fsync", []uint64{7}, retAllow},
		{"fsync", []uint64{8}, retEPERM},
		{"fsync", []uint64{7 | 1<<32}, retEPERM},
		{"ioctl", []uint64{0, 0x5401}, retEPERM},
		{"ioctl", []uint64{0, 0xdead00005401}, retEPERM}, // the mask clears the high word
		{"ioctl", []uint64{0, 0x5402}, retAllow},
		{"kill", []uint64{1, 9}, retEPERM},
		{"kill", []uint64{1, 15}, retAllow},
		{"kill", []uint64{2, 9}, retAllow},
		// Two conditions on one argument: either suffices.
		{"tkill", []uint64{5}, retEPERM},
		{"tkill", []uint64{500}, retEPERM},
		{"tkill", []uint64{50}, retAllow},
	})
	// On i386 only the low 32 bits count.
	checkCalls(t, v, auditArchI386, arch.I386, []call{
		{"keyctl", nil, retENOSYS},
		{"dup", []uint64{2}, retEPERM}, // 2 > low word 1
		{"dup", []uint64{1}, retAllow},
		{"fsync", []uint64{7}, retAllow},
	})
	// x32 is not listed: its system calls are of an ABI the profile does
	// not cover.
	if got := v.run(auditArchX86_64, nr(t, arch.X32, "read")); got != retKill {
		t.Errorf("x32 read: got %#x, want SECCOMP_RET_KILL_PROCESS", got)
	}
	// A profile that allows by default has no ENOSYS rule.
	if got := v.run(auditArchX86_64, 1000); got != retAllow {
		t.Errorf("x86_64 system call 1000: got %#x, want SECCOMP_RET_ALLOW", got)
	}
}

func TestProfileConditions(t *testing.T) {
	const profile = `{
		"defaultAction": "SCMP_ACT_ERRNO",
		"syscalls": [
			{"names": ["read", "pidfd_open"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
			{"names": ["write"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
			{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.0"}},
			{"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
			{"names": ["gettid"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}}
		]
	}`
	v := newVM(t, compileProfile(t, profile, []string{"CAP_CHOWN"}))
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{
		{"read", nil, retAllow},
		{"mount", nil, retEPERM},
		{"write", nil, retAllow},
		{"getpid", nil, retAllow},
		{"getppid", nil, retEPERM},
		{"gettid", nil, retEPERM},
	})
	v = newVM(t, compileProfile(t, profile, []string{"CAP_SYS_ADMIN"}))
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{
		{"mount", nil, retAllow},
		{"write", nil, retEPERM},
	})
}

// TestProfileLongJumps compiles a system call with more rules than a
// conditional jump can skip.
func TestProfileLongJumps(t *testing.T) {
	var rules []string
	for i := range 100 {
		rules = append(rules, `{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": `+strconv.Itoa(1000+i)+`, "op": "SCMP_CMP_EQ"}]}`)
	}
	profile := `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "close"], "action": "SCMP_ACT_ALLOW"}, ` + strings.Join(rules, ", ") + `]}`
	v := newVM(t, compileProfile(t, profile, nil))
	checkCalls(t, v, auditArchX86_64, arch.X86_64, []call{
		{"socket", []uint64{1000}, retAllow},
		{"socket", []uint64{1099}, retAllow},
		{"socket", []uint64{1100}, retEPERM},
		{"read", nil, retAllow},
		{"close", nil, retAllow},
		{"open", nil, retEPERM},
	})
}

// TestFilterMatchesRules checks every system call number of every ABI, with
// random arguments, against a direct evaluation of the resolved rules.
func TestFilterMatchesRules(t *testing.T) {
	for _, caps := range [][]string{dockerDefaultCaps, append([]string{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}, dockerDefaultCaps...)} {
		cfg, err := Resolve(nil, caps)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Compile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		v := newVM(t, f)
		tables, err := buildTables(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, tb := range tables {
			// The largest number named below 512 and from 512 on: the
			// x86_64 table holds x32's own numbers from 512 on.
			var maxNr [2]uint32
			rules := map[uint32][]rule{}
			for _, key := range tb.keys {
				n := keyNr(key)
				rules[n] = append(rules[n], tb.keyRule(key))
				r := 0
				if tb.withX32 && n >= x32OwnBase {
					r = 1
				}
				maxNr[r] = max(maxNr[r], n)
			}
			numbers := []uint32{tb.abi.mask}
			if tb.withX32 {
				numbers = append(numbers, x32SyscallBit)
			}
			for _, base := range numbers {
				for n := uint32(0); n <= max(maxNr[0], maxNr[1])+20; n++ {
					above := n > maxNr[0]
					if tb.withX32 && n >= x32OwnBase {
						above = n > maxNr[1]
					}
					for range 4 {
						args := make([]uint64, 6)
						for i := range args {
							// Small values hit the profile's conditions.
							args[i] = []uint64{0, 8, uint64(rng.IntN(48)), rng.Uint64(), uint64(rng.Uint32())}[rng.IntN(5)]
						}
						want := expected(tb, rules[n|tb.abi.mask], above, args)
						if got := v.run(tb.abi.auditArch, base|n, args...); got != want {
							t.Fatalf("%s system call %#x %#x: got %#x, want %#x", tb.abi.name(), base|n, args, got, want)
						}
					}
				}
			}
		}
	}
}

// expected evaluates the rules of tb for one system call as the filter
// should: the first rule whose conditions all hold decides.
func expected(tb *table, rules []rule, above bool, args []uint64) uint32 {
	if above {
		return retENOSYS
	}
	for _, r := range rules {
		ok := true
		for _, c := range r.args {
			a, v, v2 := args[c.Index], c.Value, c.ValueTwo
			if tb.abi.bits == 32 {
				a, v, v2 = uint64(uint32(a)), uint64(uint32(v)), uint64(uint32(v2))
			}
			switch c.Op {
			case specs.OpEqualTo:
				ok = ok && a == v
			case specs.OpNotEqual:
				ok = ok && a != v
			case specs.OpGreaterThan:
				ok = ok && a > v
			case specs.OpGreaterEqual:
				ok = ok && a >= v
			case specs.OpLessThan:
				ok = ok && a < v
			case specs.OpLessEqual:
				ok = ok && a <= v
			case specs.OpMaskedEqual:
				ok = ok && a&v == v2
			}
		}
		if ok {
			return r.action
		}
	}
	return retEPERM
}

// TestTablesMatchElastic checks the generated tables against the maps of
// github.com/elastic/go-seccomp-bpf/arch that they were generated from.
func TestTablesMatchElastic(t *testing.T) {
	for _, tc := range []struct {
		family *syscallFamily
		column int
		info   *arch.Info
	}{
		{&familyAMD64, 0, arch.X86_64},
		{&familyAMD64, 1, arch.I386},
		{&familyAMD64, 2, arch.X32},
		{&familyARM64, 0, arch.AARCH64},
		{&familyARM64, 1, arch.ARM},
	} {
		count := 0
		for _, row := range tc.family.numbers {
			if row[tc.column] >= 0 {
				count++
			}
		}
		if count != len(tc.info.SyscallNames) {
			t.Errorf("%s: %d system calls, elastic has %d: run go generate", tc.info.Name, count, len(tc.info.SyscallNames))
		}
		for nr, name := range tc.info.SyscallNumbers {
			row, ok := tc.family.lookup(name)
			if !ok || tc.family.numbers[row][tc.column] < 0 {
				t.Errorf("%s %s: not found: run go generate", tc.info.Name, name)
				continue
			}
			got := int(tc.family.numbers[row][tc.column])
			// x32 lists x86_64-only numbers too; its own are from 512 on.
			if got != nr && (tc.info != arch.X32 || got < 512 || nr >= 512) {
				t.Errorf("%s %s: got %d, want %d: run go generate", tc.info.Name, name, got, nr)
			}
		}
	}
}

// TestX32SharesNumbers checks what the merged x86_64 and x32 search relies
// on: x32 has x86_64's number for a system call, or one of its own from
// 512 on.
func TestX32SharesNumbers(t *testing.T) {
	for i, name := range familyAMD64.names {
		x86_64, x32 := familyAMD64.numbers[i][0], familyAMD64.numbers[i][2]
		if x32 >= 0 && x32 != x86_64 && x32 < x32OwnBase {
			t.Errorf("%s: x32 number %d, x86_64 number %d", name, x32, x86_64)
		}
		if x86_64 >= x32OwnBase {
			t.Errorf("%s: x86_64 number %d is in x32's own range", name, x86_64)
		}
	}
}

func TestProfileErrors(t *testing.T) {
	for _, tc := range []struct{ profile, want string }{
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [`, "unexpected end of JSON input"},
		{`["SCMP_ACT_ERRNO"]`, "not a Docker seccomp profile: a JSON array, not an object"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": "read"}`, `not a Docker seccomp profile: "syscalls" has the wrong type (a JSON string)`},
		{`{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`, "defaultAction is missing"},
		{`{"defaultAction": "SCMP_ACT_DANCE", "syscalls": []}`, `unknown action "SCMP_ACT_DANCE"`},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`, "SCMP_ACT_NOTIFY is not supported"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "argument index 6 out of range"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}`, `unknown operator "SCMP_CMP_ABOUT"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "errnoRet": 1, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}`, "errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE"},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"], "syscalls": []}`, `flag "SECCOMP_FILTER_FLAG_NEW_LISTENER" is not supported`},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}], "syscalls": []}`, "both 'architectures' and 'archMap'"},
	} {
		cfg, err := Resolve([]byte(tc.profile), nil)
		if err == nil {
			_, err = Compile(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("profile %s: got error %v, want one containing %q", tc.profile, err, tc.want)
		}
	}
}

func TestEmptyProfileHasNoFilter(t *testing.T) {
	cfg, err := Resolve([]byte(`{}`), nil)
	if err != nil || cfg != nil {
		t.Errorf("Resolve({}) = %v, %v; want no rules and no error", cfg, err)
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	for b.Loop() {
		cfg, err := Resolve(nil, dockerDefaultCaps)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDenied(t *testing.T) {
	f := compileDefault(t, nil)
	denied, err := f.Denied("execve", "exit_group", "keyctl", "add_key", "no_such_call")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(denied, []string{"keyctl", "add_key"}) {
		t.Errorf("the default profile denies %v of execve, exit_group, keyctl and add_key, want keyctl and add_key", denied)
	}
}

func TestUnknownArchitecture(t *testing.T) {
	_, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_BOGUS"}})
	if err == nil || !strings.Contains(err.Error(), `unknown architecture "SCMP_ARCH_BOGUS"`) {
		t.Errorf("got %v, want an unknown architecture error", err)
	}
}
