package rootfs

import (
	"syscall"

	"github.com/ctr-lite/ctr-lite/raw"
)

// runProg runs p's ops on the calling thread the way package namespaces'
// child does (registers, If, Else/Jump, the pseudo-ops), in a process of
// the test's own where the fds left open can be listed. It returns the
// index of the op that failed and its errno, or -1.
func runProg(p *raw.Prog) (int, syscall.Errno) {
	var regs [raw.NRegs]uintptr
	for i := 0; i < len(p.Ops); i++ {
		o := &p.Ops[i]
		if o.If != 0 && regs[o.If] == 0 {
			continue
		}
		if o.SayLen != 0 {
			syscall.RawSyscall(syscall.SYS_WRITE, 2, o.Say, o.SayLen) // --explain
		}
		a := o.Args
		for j, r := range o.In {
			if r != 0 {
				a[j] = regs[r]
			}
		}
		switch o.Trap {
		case raw.Goto:
			i = int(o.Jump) - 1
			continue
		case raw.Set:
			regs[o.Out] = a[0]
			continue
		case raw.Store:
			*(*int32)(o.Ptr) = int32(a[1])
			continue
		case raw.Eq:
			var v uintptr
			switch a[3] {
			case 1:
				v = uintptr(*(*uint8)(o.Ptr))
			case 4:
				v = uintptr(*(*uint32)(o.Ptr))
			default:
				v = uintptr(*(*uint64)(o.Ptr))
			}
			if v != a[1] {
				return i, syscall.Errno(a[2])
			}
			continue
		case raw.Fail:
			return i, syscall.Errno(a[0])
		case raw.Done:
			continue
		}
		r1, _, e := syscall.RawSyscall6(o.Trap, a[0], a[1], a[2], a[3], a[4], a[5])
		if e != 0 {
			if (o.Else[0] != 0 && e == o.Else[0]) || (o.Else[1] != 0 && e == o.Else[1]) {
				i = int(o.Jump) - 1
				continue
			}
			return i, e
		}
		if o.Out != 0 {
			regs[o.Out] = r1
		}
		if o.Check && r1 != o.Want {
			return i, syscall.EPIPE
		}
	}
	return -1, 0
}
