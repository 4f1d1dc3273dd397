package seccomp

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// call is one syscall as the kernel presents it to a filter.
type call struct {
	arch uint32
	nr   uint32
	args [6]uint64
}

// data lays out struct seccomp_data in the byte order of the ABI.
func (c call) data(bigEndian bool) []byte {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	b := make([]byte, 64)
	order.PutUint32(b[0:], c.nr)
	order.PutUint32(b[4:], c.arch)
	order.PutUint64(b[8:], 0x7f0000001000) // instruction_pointer, unused
	for i, a := range c.args {
		order.PutUint64(b[16+8*i:], a)
	}
	return b
}

// runBPF is a small classic BPF interpreter: the subset seccomp filters
// use, with the kernel's checks (seccomp_check_filter, bpf_check_classic):
// aligned 32-bit loads inside seccomp_data, jumps inside the program, a
// ret on every path.
func runBPF(t *testing.T, prog []unix.SockFilter, c call, bigEndian bool) uint32 {
	t.Helper()
	if len(prog) == 0 || len(prog) > maxInsns {
		t.Fatalf("program length %d", len(prog))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	data := c.data(bigEndian)
	var a uint32
	pc := 0
	for steps := 0; ; steps++ {
		if pc >= len(prog) || steps > len(prog) {
			t.Fatalf("pc %d ran off the program (len %d)", pc, len(prog))
		}
		f := prog[pc]
		pc++
		switch f.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if f.K%4 != 0 || f.K+4 > 64 {
				t.Fatalf("insn %d: bad load offset %d", pc-1, f.K)
			}
			a = order.Uint32(data[f.K:])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= f.K
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(f.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			pc += branch(a == f.K, f)
		case unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K:
			pc += branch(a > f.K, f)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			pc += branch(a >= f.K, f)
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			pc += branch(a&f.K != 0, f)
		case unix.BPF_RET | unix.BPF_K:
			return f.K
		default:
			t.Fatalf("insn %d: opcode %#x not supported", pc-1, f.Code)
		}
	}
}

func branch(cond bool, f unix.SockFilter) int {
	if cond {
		return int(f.Jt)
	}
	return int(f.Jf)
}
