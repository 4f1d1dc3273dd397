package seccomp

import (
	"fmt"
	"io"
	"math/bits"

	"golang.org/x/sys/unix"
)

// Classic BPF (Documentation/networking/filter.rst) has one accumulator A
// and conditional jumps whose true/false offsets are 8 bits: a compare can
// skip at most 255 instructions. Only BPF_JA carries a 32-bit offset. The
// builder below lets the compiler jump to labels anywhere, then
// "relaxes" the program: a conditional jump whose target is too far is
// pointed at a BPF_JA placed right after it (a trampoline), and positions
// are recomputed until every offset fits.

// label names an instruction position. label 0 is "the next instruction".
type label int

const next label = 0

// insn is one instruction before jump offsets are known.
type insn struct {
	code    uint16
	k       uint32
	jt, jf  label // conditional jumps; jt is the target of BPF_JA
	comment string
}

type builder struct {
	insns  []insn
	labels []int // label -> index in insns it is bound to (-1: unbound)
}

func newBuilder() *builder { return &builder{labels: []int{-1}} }

func (b *builder) label() label {
	b.labels = append(b.labels, -1)
	return label(len(b.labels) - 1)
}

// bind places l at the next instruction emitted.
func (b *builder) bind(l label) { b.labels[l] = len(b.insns) }

func (b *builder) ld(off uint32, comment string) {
	b.insns = append(b.insns, insn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: off, comment: comment})
}

func (b *builder) and(k uint32, comment string) {
	b.insns = append(b.insns, insn{code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, k: k, comment: comment})
}

// jmp emits a conditional jump: BPF_JEQ, BPF_JGT, BPF_JGE or BPF_JSET.
func (b *builder) jmp(op uint16, k uint32, jt, jf label, comment string) {
	b.insns = append(b.insns, insn{code: unix.BPF_JMP | op | unix.BPF_K, k: k, jt: jt, jf: jf, comment: comment})
}

func (b *builder) ret(k uint32, comment string) {
	b.insns = append(b.insns, insn{code: unix.BPF_RET | unix.BPF_K, k: k, comment: comment})
}

func isCond(code uint16) bool {
	return code&0x07 == unix.BPF_JMP && code&0xf0 != unix.BPF_JA
}

// Far-jump marks: which side of a conditional jump goes through a trampoline.
const (
	farTrue uint8 = 1 << iota
	farFalse
)

// assemble resolves labels into offsets, adding trampolines where needed.
// It returns the program and one comment per instruction.
func (b *builder) assemble() ([]unix.SockFilter, []string, error) {
	n := len(b.insns)
	for l, at := range b.labels[1:] {
		if at < 0 || at >= n {
			return nil, nil, errorf("internal error: label %d is not bound to an instruction", l+1)
		}
	}
	far := make([]uint8, n)
	pos := make([]int, n+1)
	for {
		p := 0
		for i := range b.insns {
			pos[i] = p
			p += 1 + bits.OnesCount8(far[i])
		}
		pos[n] = p
		changed := false
		for i, in := range b.insns {
			if !isCond(in.code) {
				continue
			}
			if far[i]&farTrue == 0 && b.target(pos, i, in.jt)-(pos[i]+1) > 255 {
				far[i] |= farTrue
				changed = true
			}
			if far[i]&farFalse == 0 && b.target(pos, i, in.jf)-(pos[i]+1) > 255 {
				far[i] |= farFalse
				changed = true
			}
		}
		if !changed {
			break
		}
	}

	prog := make([]unix.SockFilter, 0, pos[n])
	comments := make([]string, 0, pos[n])
	emit := func(f unix.SockFilter, c string) {
		prog = append(prog, f)
		comments = append(comments, c)
	}
	for i, in := range b.insns {
		at := pos[i]
		switch {
		case isCond(in.code):
			var jt, jf int
			tramp := at + 1
			if far[i]&farTrue != 0 {
				jt = tramp - (at + 1)
				tramp++
			} else {
				jt = b.target(pos, i, in.jt) - (at + 1)
			}
			if far[i]&farFalse != 0 {
				jf = tramp - (at + 1)
			} else {
				jf = b.target(pos, i, in.jf) - (at + 1)
			}
			if jt < 0 || jf < 0 {
				return nil, nil, errorf("internal error: backward jump at instruction %d", at)
			}
			emit(unix.SockFilter{Code: in.code, Jt: uint8(jt), Jf: uint8(jf), K: in.k}, in.comment)
			if far[i]&farTrue != 0 {
				q := len(prog)
				emit(unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(b.target(pos, i, in.jt) - (q + 1))}, "long jump (true branch)")
			}
			if far[i]&farFalse != 0 {
				q := len(prog)
				emit(unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(b.target(pos, i, in.jf) - (q + 1))}, "long jump (false branch)")
			}
		case in.code == unix.BPF_JMP|unix.BPF_JA:
			off := b.target(pos, i, in.jt) - (at + 1)
			if off < 0 {
				return nil, nil, errorf("internal error: backward jump at instruction %d", at)
			}
			emit(unix.SockFilter{Code: in.code, K: uint32(off)}, in.comment)
		default:
			emit(unix.SockFilter{Code: in.code, K: in.k}, in.comment)
		}
	}
	return prog, comments, nil
}

// target is the final position a label of instruction i points to.
func (b *builder) target(pos []int, i int, l label) int {
	if l == next {
		return pos[i+1]
	}
	return pos[b.labels[l]]
}

// Disassemble writes prog one instruction per line, tcpdump -d style with
// absolute jump targets, followed by comments[i] when there is one:
//
//	0003: jeq #59          jt 4    jf 5     ; execve
func Disassemble(w io.Writer, prog []unix.SockFilter, comments []string) error {
	for i, f := range prog {
		text := insnString(i, f)
		if i < len(comments) && comments[i] != "" {
			text = fmt.Sprintf("%-34s ; %s", text, comments[i])
		}
		if _, err := fmt.Fprintf(w, "%04d: %s\n", i, text); err != nil {
			return err
		}
	}
	return nil
}

func insnString(i int, f unix.SockFilter) string {
	k := imm(f.K)
	switch f.Code {
	case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
		return fmt.Sprintf("ld  [%d]", f.K)
	case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
		return "and #" + k
	case unix.BPF_JMP | unix.BPF_JA:
		return fmt.Sprintf("ja  %d", i+1+int(f.K))
	case unix.BPF_RET | unix.BPF_K:
		return fmt.Sprintf("ret #%#08x", f.K)
	}
	if isCond(f.Code) {
		op := map[uint16]string{unix.BPF_JEQ: "jeq", unix.BPF_JGT: "jgt", unix.BPF_JGE: "jge", unix.BPF_JSET: "jset"}[f.Code&0xf0]
		if op != "" && f.Code&unix.BPF_X == 0 {
			return fmt.Sprintf("%-4s#%-12s jt %-4d jf %d", op, k, i+1+int(f.Jt), i+1+int(f.Jf))
		}
	}
	return fmt.Sprintf("code=%#04x jt=%d jf=%d k=%#x", f.Code, f.Jt, f.Jf, f.K)
}

// imm prints small numbers (syscall numbers) in decimal, masks in hex.
func imm(k uint32) string {
	if k < 0x10000 {
		return fmt.Sprintf("%d", k)
	}
	return fmt.Sprintf("%#x", k)
}
