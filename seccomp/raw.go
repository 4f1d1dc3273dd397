package seccomp

import (
	"errors"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// LoadRaw appends what LoadStep does: seccomp(2) SECCOMP_SET_MODE_FILTER
// with f's flags and program (kept alive by p), described as LoadStep,
// and with no flags the prctl(PR_SET_SECCOMP) fallback on ENOSYS, as
// Load does. A failure is Load's error.
//
// A filter with a listener (SCMP_ACT_NOTIFY: the fd goes to the runtime
// over the sync socket) is a *raw.NeedsGo.
func LoadRaw(p *raw.Prog, f *Filter) error {
	if len(f.Program) == 0 {
		return errors.New("empty seccomp program")
	}
	if f.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return &raw.NeedsGo{Why: "a seccomp listener (SCMP_ACT_NOTIFY) is sent to the runtime by the Go init"}
	}
	prog := &unix.SockFprog{Len: uint16(len(f.Program)), Filter: &f.Program[0]}
	p.Keep(prog)
	p.Keep(f.Program)
	st := raw.Desc(LoadStep(f, nil))
	errf := func(e syscall.Errno) error { return &step.Error{Step: st, Err: loadErr(f, e)} }
	o := raw.Op{Trap: unix.SYS_SECCOMP, Args: [6]uintptr{unix.SECCOMP_SET_MODE_FILTER, uintptr(f.Flags), uintptr(unsafe.Pointer(prog))}}
	if f.Flags != 0 {
		p.SetErr(p.Add(o, st), errf)
		return nil
	}
	o.Else = [2]syscall.Errno{unix.ENOSYS}
	load := p.Add(o, st)
	p.SetErr(load, errf)
	done := p.AddQuiet(raw.Op{Trap: raw.Goto}, step.Step{Op: "goto", Why: "loaded"})
	p.JumpHere(load)
	i := p.AddQuiet(raw.Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(prog))}},
		step.Step{Op: "prctl", Args: "PR_SET_SECCOMP, SECCOMP_MODE_FILTER", Why: "a kernel without seccomp(2)"})
	p.SetErr(i, errf)
	p.JumpHere(done)
	return nil
}
