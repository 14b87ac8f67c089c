package seccomp

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Every jump of the program goes forward over parts whose lengths are
// known when the jump is emitted. A conditional jump skips at most 255
// instructions; a longer skip goes through an unconditional jump (ja),
// whose offset has 32 bits. Instructions are kept in their raw form, which
// x/net/bpf encodes, because a start of gocker compiles the profile anew
// and the boxed bpf.Instruction values cost an allocation each.

// badArchAction is the result for a system call of an ABI that the
// profile does not cover, which libseccomp's filters also kill.
const badArchAction = unix.SECCOMP_RET_KILL_PROCESS

// assemble returns the whole program: the dispatch on the audit
// architecture, then the part of each architecture.
func assemble(tables []*table, defaultAction uint32) ([]bpf.RawInstruction, error) {
	type section struct {
		auditArch uint32
		code      []bpf.RawInstruction
	}
	var sections []section
	for _, t := range tables {
		code := []bpf.RawInstruction{load(offsetNr)}
		if t.abi.arch == specs.ArchX86_64 {
			if t.withX32 {
				code = append(code, and(^uint32(x32SyscallBit)))
			} else {
				// x32 system calls are of an ABI that the profile
				// does not cover.
				code = append(code, jumpIf(bpf.JumpGreaterOrEqual, x32SyscallBit, 0, 1), ret(badArchAction))
			}
		}
		code, err := t.appendProgram(code, defaultAction)
		if err != nil {
			return nil, err
		}
		sections = append(sections, section{t.abi.auditArch, code})
	}

	// ld arch; per section "jeq ID; ja SECTION"; ret badArchAction.
	size := 1 + 2*len(sections) + 1
	start := size
	for _, s := range sections {
		size += len(s.code)
	}
	prog := make([]bpf.RawInstruction, 0, size)
	prog = append(prog, load(offsetArch))
	for _, s := range sections {
		prog = append(prog, jumpIf(bpf.JumpEqual, s.auditArch, 0, 1))
		prog = append(prog, jumpAlways(start-(len(prog)+1)))
		start += len(s.code)
	}
	prog = append(prog, ret(badArchAction))
	for _, s := range sections {
		prog = append(prog, s.code...)
	}
	return prog, nil
}

// segment is a range of system call numbers, first to last, that the
// filter treats alike: with one action, or with the rules of a single
// number.
type segment struct {
	first, last uint32
	action      uint32
	rules       []rule // nil for an action without conditions
	// code tests the rules; nil for an action without conditions, whose
	// code is a return of action.
	code []bpf.RawInstruction
}

// x32OwnBase is the first of the numbers that x32 does not share with
// x86_64.
const x32OwnBase = 512

// segments splits the whole range of numbers from base on into segments.
// Neighbouring numbers without argument conditions share a segment when
// their action is the same, so the search tree has far fewer leaves than
// the profile has names.
//
// Numbers above the largest that the profile names belong to system calls
// newer than the profile. runc's filters return ENOSYS for them, so that a
// C library falls back to an older system call. These filters do the same
// in each range of numbers of the table (x86_64, and x32's own numbers from
// 512 on). A profile that allows what it does not name needs no such rule.
func (t *table) segments(defaultAction uint32) []segment {
	above := defaultAction
	if len(t.keys) > 0 && defaultAction != unix.SECCOMP_RET_ALLOW && defaultAction != unix.SECCOMP_RET_LOG {
		above = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	}
	// The ranges start at starts; maxNamed[i] is the largest number that
	// the profile names in range i.
	starts := []uint32{t.abi.mask}
	if t.withX32 {
		starts = append(starts, x32OwnBase)
	}
	maxNamed := make([]uint32, len(starts))
	hasNamed := make([]bool, len(starts))
	for _, key := range t.keys {
		i := len(starts) - 1
		for keyNr(key) < starts[i] {
			i--
		}
		maxNamed[i], hasNamed[i] = keyNr(key), true
	}

	// Docker's default profile makes 70 to 130 segments per table.
	segs := make([]segment, 0, 128)
	add := func(s segment) {
		if n := len(segs); n > 0 && s.rules == nil && segs[n-1].rules == nil && segs[n-1].action == s.action && segs[n-1].last+1 == s.first {
			segs[n-1].last = s.last
			return
		}
		segs = append(segs, s)
	}
	// addGap adds numbers that the profile does not name, split where a
	// range starts: past the largest named number of its range, a number
	// gets ENOSYS.
	addGap := func(first, last uint32) {
		for i := range starts {
			end := uint32(math.MaxUint32)
			if i+1 < len(starts) {
				end = starts[i+1] - 1
			}
			lo, hi := max(first, starts[i]), min(last, end)
			if lo > hi {
				continue
			}
			action := defaultAction
			if !hasNamed[i] || lo > maxNamed[i] {
				action = above
			}
			add(segment{first: lo, last: hi, action: action})
		}
	}
	nextNr := t.abi.mask
	for i := 0; i < len(t.keys); {
		nr := keyNr(t.keys[i])
		j := i + 1
		for j < len(t.keys) && keyNr(t.keys[j]) == nr {
			j++
		}
		if nr > nextNr {
			addGap(nextNr, nr-1)
		}
		if first := t.keyRule(t.keys[i]); len(first.args) == 0 {
			add(segment{first: nr, last: nr, action: first.action})
		} else {
			rules := make([]rule, 0, j-i)
			for _, key := range t.keys[i:j] {
				rules = append(rules, t.keyRule(key))
			}
			add(segment{first: nr, last: nr, rules: rules})
		}
		nextNr = nr + 1
		i = j
	}
	addGap(nextNr, math.MaxUint32)
	return segs
}

// appendProgram appends the part of one table to code: a binary search
// over its segments. The part expects the system call number in A and
// returns in every path.
func (t *table) appendProgram(code []bpf.RawInstruction, defaultAction uint32) ([]bpf.RawInstruction, error) {
	segs := t.segments(defaultAction)
	for i := range segs {
		s := &segs[i]
		if s.rules == nil {
			continue
		}
		var err error
		if s.code, err = t.chain(s.rules, defaultAction); err != nil {
			return nil, fmt.Errorf("system call %d of %s: %w", s.first, t.abi.name(), err)
		}
	}
	return appendTree(slices.Grow(code, treeSize(segs)), segs), nil
}

// treeSize returns the number of instructions of the search over segs.
func treeSize(segs []segment) int {
	if len(segs) == 1 {
		return max(1, len(segs[0].code))
	}
	mid := len(segs) / 2
	left := treeSize(segs[:mid])
	return jumpSize(left) + left + treeSize(segs[mid:])
}

// jumpSize returns the length of a conditional jump over n instructions.
func jumpSize(n int) int {
	if n <= 255 {
		return 1
	}
	return 2
}

// appendTree appends a binary search over segs. The segments are sorted
// and contiguous, so each comparison selects the half the number is in.
func appendTree(code []bpf.RawInstruction, segs []segment) []bpf.RawInstruction {
	if len(segs) == 1 {
		if segs[0].code == nil {
			return append(code, ret(segs[0].action))
		}
		return append(code, segs[0].code...)
	}
	mid := len(segs) / 2
	left := treeSize(segs[:mid])
	if left <= 255 {
		code = append(code, jumpIf(bpf.JumpGreaterOrEqual, segs[mid].first, left, 0))
	} else {
		code = append(code, jumpIf(bpf.JumpGreaterOrEqual, segs[mid].first, 0, 1), jumpAlways(left))
	}
	code = appendTree(code, segs[:mid])
	return appendTree(code, segs[mid:])
}

// chain tries the rules of one system call in profile order. The first
// rule whose conditions hold decides; when none does, the default action
// does.
func (t *table) chain(rules []rule, defaultAction uint32) ([]bpf.RawInstruction, error) {
	var code []bpf.RawInstruction
	for i := 0; i < len(rules); {
		r := rules[i]
		if len(r.args) == 0 {
			// Later rules are unreachable.
			return append(code, ret(r.action)), nil
		}
		if n := t.equalityRun(rules[i:]); n > 1 {
			code = t.appendSet(code, rules[i:i+n])
			i += n
			continue
		}
		start := len(code)
		for _, c := range r.args {
			code = appendCompare(code, c, t.abi.bits)
		}
		code = append(code, ret(r.action))
		// A failed comparison skips the rest of the rule, up to and
		// including its return, to the next rule.
		retIndex := len(code) - 1
		for i := start; i < retIndex; i++ {
			ins := &code[i]
			if !isConditional(ins.Op) {
				continue
			}
			for _, skip := range []*uint8{&ins.Jt, &ins.Jf} {
				if *skip != failMarker {
					continue
				}
				n := retIndex - i
				if n > 255 {
					return nil, fmt.Errorf("too many argument conditions in one rule")
				}
				*skip = uint8(n)
			}
		}
		i++
	}
	return append(code, ret(defaultAction)), nil
}

// maxSet bounds the values that appendSet compares in one block, so that
// each of its jumps reaches the block's return.
const maxSet = 200

// equalityRun returns how many rules from the first on test the same
// argument for equality, each with one condition, and have the same
// action: Docker's profile lists the allowed socket families and
// personalities that way. On 64-bit ABIs the values must also share their
// high 32 bits.
func (t *table) equalityRun(rules []rule) int {
	first := rules[0]
	if len(first.args) != 1 || first.args[0].Op != specs.OpEqualTo {
		return 0
	}
	n := 1
	for n < len(rules) && n < maxSet {
		r := rules[n]
		if len(r.args) != 1 || r.action != first.action || r.args[0].Op != specs.OpEqualTo || r.args[0].Index != first.args[0].Index {
			break
		}
		if t.abi.bits == 64 && r.args[0].Value>>32 != first.args[0].Value>>32 {
			break
		}
		n++
	}
	return n
}

// appendSet appends the test of a run of equality rules (see
// equalityRun) as one block: the argument is loaded once and compared
// with each value, and any match returns the rules' action. No match
// continues after the block, with the next rule.
func (t *table) appendSet(code []bpf.RawInstruction, rules []rule) []bpf.RawInstruction {
	arg := rules[0].args[0]
	// The block's instructions after the high word's test: the load of
	// the low word, one comparison per value, the return.
	rest := 1 + len(rules) + 1
	if t.abi.bits == 64 {
		code = append(code, loadArg(arg.Index, true), jumpIf(bpf.JumpEqual, uint32(arg.Value>>32), 0, rest))
	}
	code = append(code, loadArg(arg.Index, false))
	for i, r := range rules {
		toRet := len(rules) - 1 - i
		if i < len(rules)-1 {
			code = append(code, jumpIf(bpf.JumpEqual, uint32(r.args[0].Value), toRet, 0))
		} else {
			code = append(code, jumpIf(bpf.JumpEqual, uint32(r.args[0].Value), 0, 1))
		}
	}
	return append(code, ret(rules[0].action))
}

// Jump targets inside a comparison, which appendCompare turns into skips.
const (
	next = iota // the following instruction
	pass        // the instruction after the comparison
	fail        // the next rule, which chain resolves
)

// failMarker stands for a jump to fail until chain resolves it. Within a
// comparison of at most six instructions no real skip is that large.
const failMarker = 255

// step is one instruction of a comparison, with symbolic targets when it
// is a conditional jump.
type step struct {
	ins             bpf.RawInstruction
	ifTrue, ifFalse int
	jump            bool
}

func ld(ins bpf.RawInstruction) step { return step{ins: ins} }

func jmp(cond bpf.JumpTest, val uint32, ifTrue, ifFalse int) step {
	return step{ins: jumpIf(cond, val, 0, 0), ifTrue: ifTrue, ifFalse: ifFalse, jump: true}
}

// appendCompare appends the instructions that test one argument condition.
// They continue after their last instruction when it holds, and jump to
// failMarker, for chain to resolve, when it does not. On 32-bit ABIs only
// the low 32 bits of the argument and of the values are compared, as
// libseccomp does, because the kernel passes such arguments zero-extended.
func appendCompare(code []bpf.RawInstruction, c specs.LinuxSeccompArg, bits int) []bpf.RawInstruction {
	hi, lo := uint32(c.Value>>32), uint32(c.Value)
	ldHi, ldLo := ld(loadArg(c.Index, true)), ld(loadArg(c.Index, false))
	var buf [6]step
	steps := buf[:0]
	if bits == 32 {
		switch c.Op {
		case specs.OpEqualTo:
			steps = append(steps, ldLo, jmp(bpf.JumpEqual, lo, pass, fail))
		case specs.OpNotEqual:
			steps = append(steps, ldLo, jmp(bpf.JumpEqual, lo, fail, pass))
		case specs.OpGreaterThan:
			steps = append(steps, ldLo, jmp(bpf.JumpGreaterThan, lo, pass, fail))
		case specs.OpGreaterEqual:
			steps = append(steps, ldLo, jmp(bpf.JumpGreaterOrEqual, lo, pass, fail))
		case specs.OpLessThan:
			steps = append(steps, ldLo, jmp(bpf.JumpGreaterOrEqual, lo, fail, pass))
		case specs.OpLessEqual:
			steps = append(steps, ldLo, jmp(bpf.JumpGreaterThan, lo, fail, pass))
		case specs.OpMaskedEqual:
			steps = append(steps, ldLo, ld(and(lo)), jmp(bpf.JumpEqual, uint32(c.ValueTwo), pass, fail))
		}
	} else {
		switch c.Op {
		case specs.OpEqualTo:
			steps = append(steps, ldHi, jmp(bpf.JumpEqual, hi, next, fail), ldLo, jmp(bpf.JumpEqual, lo, pass, fail))
		case specs.OpNotEqual:
			steps = append(steps, ldHi, jmp(bpf.JumpEqual, hi, next, pass), ldLo, jmp(bpf.JumpEqual, lo, fail, pass))
		case specs.OpGreaterThan, specs.OpGreaterEqual:
			last := bpf.JumpGreaterThan
			if c.Op == specs.OpGreaterEqual {
				last = bpf.JumpGreaterOrEqual
			}
			// The high words decide unless they are equal.
			steps = append(steps,
				ldHi, jmp(bpf.JumpGreaterThan, hi, pass, next), jmp(bpf.JumpEqual, hi, next, fail),
				ldLo, jmp(last, lo, pass, fail))
		case specs.OpLessThan, specs.OpLessEqual:
			// lo < L is not lo >= L; lo <= L is not lo > L.
			last := bpf.JumpGreaterOrEqual
			if c.Op == specs.OpLessEqual {
				last = bpf.JumpGreaterThan
			}
			steps = append(steps,
				ldHi, jmp(bpf.JumpGreaterOrEqual, hi, next, pass), jmp(bpf.JumpEqual, hi, next, fail),
				ldLo, jmp(last, lo, fail, pass))
		case specs.OpMaskedEqual:
			// Value is the mask and ValueTwo the expected result, as in
			// libseccomp's SCMP_CMP_MASKED_EQ.
			steps = append(steps,
				ldHi, ld(and(hi)), jmp(bpf.JumpEqual, uint32(c.ValueTwo>>32), next, fail),
				ldLo, ld(and(lo)), jmp(bpf.JumpEqual, uint32(c.ValueTwo), pass, fail))
		}
	}
	for i, s := range steps {
		if s.jump {
			s.ins.Jt = skipTo(s.ifTrue, i, len(steps))
			s.ins.Jf = skipTo(s.ifFalse, i, len(steps))
		}
		code = append(code, s.ins)
	}
	return code
}

// skipTo returns the skip from step i of n to target.
func skipTo(target, i, n int) uint8 {
	switch target {
	case pass:
		return uint8(n - 1 - i)
	case fail:
		return failMarker
	}
	return 0
}

// isConditional reports whether op is a conditional jump: of class
// BPF_JMP, other than BPF_JA.
func isConditional(op uint16) bool {
	const classMask, classJmp, ja = 0x07, 0x05, 0x05
	return op&classMask == classJmp && op != ja
}

// Constructors of raw instructions. x/net/bpf returns an error only for
// invalid operands, which these never pass.

func load(off uint32) bpf.RawInstruction {
	return mustAssemble(bpf.LoadAbsolute{Off: off, Size: 4}.Assemble())
}

// loadArg loads the high or low 32 bits of argument index of struct
// seccomp_data, whose arguments are 64-bit values in native byte order.
func loadArg(index uint, high bool) bpf.RawInstruction {
	off := offsetArgs + 8*uint32(index)
	if high == (binary.NativeEndian.Uint16([]byte{1, 0}) == 1) {
		off += 4
	}
	return load(off)
}

func jumpIf(cond bpf.JumpTest, val uint32, skipTrue, skipFalse int) bpf.RawInstruction {
	return mustAssemble(bpf.JumpIf{Cond: cond, Val: val, SkipTrue: uint8(skipTrue), SkipFalse: uint8(skipFalse)}.Assemble())
}

func jumpAlways(skip int) bpf.RawInstruction {
	return mustAssemble(bpf.Jump{Skip: uint32(skip)}.Assemble())
}

func and(val uint32) bpf.RawInstruction {
	return mustAssemble(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: val}.Assemble())
}

func ret(val uint32) bpf.RawInstruction {
	return mustAssemble(bpf.RetConstant{Val: val}.Assemble())
}

func mustAssemble(ins bpf.RawInstruction, err error) bpf.RawInstruction {
	if err != nil {
		panic(err)
	}
	return ins
}
