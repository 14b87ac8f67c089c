package seccomp

import (
	"encoding/binary"
	"errors"
	"runtime"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Denied returns the system calls among names that the filter does not let
// a process of the native architecture make, with all arguments zero:
// those that get an error, a signal or the process killed. It runs the
// program in x/net/bpf's interpreter, which suits checking a profile once
// rather than at every start.
func (f *Filter) Denied(names ...string) ([]string, error) {
	native := abiOf(runtime.GOARCH, nativeArch(runtime.GOARCH))
	if native == nil {
		return nil, nil
	}
	vm, err := f.interpreter()
	if err != nil {
		return nil, err
	}
	var denied []string
	for _, name := range names {
		row, ok := native.family.lookup(name)
		if !ok || native.family.numbers[row][native.column] < 0 {
			continue
		}
		nr := uint32(native.family.numbers[row][native.column]) | native.mask
		out, err := vm.Run(seccompData(native.auditArch, nr))
		if err != nil {
			return nil, err
		}
		if action := uint32(out) & unix.SECCOMP_RET_ACTION_FULL; action != unix.SECCOMP_RET_ALLOW && action != unix.SECCOMP_RET_LOG {
			denied = append(denied, name)
		}
	}
	return denied, nil
}

// interpreter loads the filter into x/net/bpf's interpreter.
func (f *Filter) interpreter() (*bpf.VM, error) {
	raw := make([]bpf.RawInstruction, f.Len())
	for i := range raw {
		b := f.Program[i*sockFilterSize:]
		raw[i] = bpf.RawInstruction{Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	insns, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, errors.New("the filter contains instructions that x/net/bpf cannot decode")
	}
	return bpf.NewVM(insns)
}

// seccompData returns struct seccomp_data for a system call, in the form
// that the interpreter reads. The interpreter loads 32-bit words in
// big-endian order, so each word is stored that way, at the kernel's offset.
func seccompData(auditArch, nr uint32, args ...uint64) []byte {
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[offsetNr:], nr)
	binary.BigEndian.PutUint32(data[offsetArch:], auditArch)
	littleEndian := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	for i, a := range args {
		lo, hi := offsetArgs+8*i, offsetArgs+8*i+4
		if !littleEndian {
			lo, hi = hi, lo
		}
		binary.BigEndian.PutUint32(data[lo:], uint32(a))
		binary.BigEndian.PutUint32(data[hi:], uint32(a>>32))
	}
	return data
}
