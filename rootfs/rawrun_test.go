package rootfs

import (
	"syscall"
	"unsafe"

	"github.com/ctr-lite/ctr-lite/raw"
)

// runProg runs p's ops on the calling thread the way package namespaces'
// child does (registers, If, Else/Jump, the pseudo-ops), for tests that
// check what the ops do to the kernel in a process of their own. It
// returns the index of the op that failed and its errno, or -1.
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
		switch o.Trap {
		case raw.Goto:
			i = int(o.Jump) - 1
			continue
		case raw.Set:
			regs[o.Out] = o.Args[0]
			continue
		case raw.Eq:
			var v uintptr
			at := *(*unsafe.Pointer)(unsafe.Pointer(&o.Args[0])) // memory p keeps
			switch o.Args[3] {
			case 1:
				v = uintptr(*(*uint8)(at))
			case 4:
				v = uintptr(*(*uint32)(at))
			default:
				v = *(*uintptr)(at)
			}
			if v != o.Args[1] {
				return i, syscall.Errno(o.Args[2])
			}
			continue
		case raw.Store:
			*(*uint32)(*(*unsafe.Pointer)(unsafe.Pointer(&o.Args[0]))) = uint32(regs[o.In[1]])
			continue
		case raw.Fail:
			return i, syscall.Errno(o.Args[0])
		case raw.Done:
			continue
		}
		a := o.Args
		for j, r := range o.In {
			if r != 0 {
				a[j] = regs[r]
			}
		}
		r1, _, e := syscall.RawSyscall6(o.Trap, a[0], a[1], a[2], a[3], a[4], a[5])
		if e != 0 {
			if e == o.Else[0] || e == o.Else[1] {
				i = int(o.Jump) - 1
				continue
			}
			return i, e
		}
		if o.Check && r1 != o.Want {
			return i, syscall.EPIPE
		}
		if o.Out != 0 {
			regs[o.Out] = r1
		}
	}
	return -1, 0
}
