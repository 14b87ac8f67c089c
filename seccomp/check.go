package seccomp

import (
	"encoding/binary"
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
	raw := make([]bpf.RawInstruction, f.Len())
	for i := range raw {
		b := f.Program[i*sockFilterSize:]
		raw[i] = bpf.RawInstruction{Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	insns, _ := bpf.Disassemble(raw)
	vm, err := bpf.NewVM(insns)
	if err != nil {
		return nil, err
	}
	var denied []string
	for _, name := range names {
		row, ok := native.family.lookup(name)
		if !ok || native.family.numbers[row][native.column] < 0 {
			continue
		}
		// The interpreter loads words in big-endian order, so the
		// words of struct seccomp_data are stored that way.
		data := make([]byte, 64)
		binary.BigEndian.PutUint32(data[offsetNr:], uint32(native.family.numbers[row][native.column])|native.mask)
		binary.BigEndian.PutUint32(data[offsetArch:], native.auditArch)
		out, err := vm.Run(data)
		if err != nil {
			return nil, err
		}
		if action := uint32(out) & unix.SECCOMP_RET_ACTION_FULL; action != unix.SECCOMP_RET_ALLOW && action != unix.SECCOMP_RET_LOG {
			denied = append(denied, name)
		}
	}
	return denied, nil
}
