package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
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
// A filter with a listener (SCMP_ACT_NOTIFY) is a *raw.NeedsGo: use
// LoadRawListener, which hands the listener to the runtime.
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

// RawListener says how LoadRawListener hands a filter's listener to the
// runtime, as LoadStep's listener function does for the Go init.
type RawListener struct {
	// Sock is the register holding the fd of a stream socket to the
	// runtime.
	Sock raw.Reg
	// Msg is sent with the listener (SCM_RIGHTS) in one sendmsg(2): the
	// fd rides on its first byte.
	Msg []byte
	// Ack is what the runtime answers once it passed the listener on;
	// the child reads len(Ack) bytes (MSG_WAITALL) and compares them.
	Ack []byte
}

// LoadRawListener appends what LoadStep does for a filter with a
// listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), as one group described by
// LoadStep: seccomp(2) into a register, the fd stored into a prebuilt
// SCM_RIGHTS message, sendmsg(2) of l.Msg with it on l.Sock, close(2) of
// the child's copy, then the runtime's l.Ack read and compared. The
// filter is loaded first, so the sendmsg, close and read must be allowed
// by it, as in the Go init. A failure is Load's error, or names the
// hand-over as container's sendListener does.
func LoadRawListener(p *raw.Prog, f *Filter, l RawListener) error {
	if len(f.Program) == 0 {
		return errors.New("empty seccomp program")
	}
	if f.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
		return errors.New("seccomp: the filter has no listener (SCMP_ACT_NOTIFY)")
	}
	if l.Sock == 0 || len(l.Msg) == 0 || len(l.Ack) == 0 {
		return errors.New("seccomp: a listener needs a socket, a message and an answer")
	}
	prog := &unix.SockFprog{Len: uint16(len(f.Program)), Filter: &f.Program[0]}
	p.Keep(prog)
	p.Keep(f.Program)
	msg := append([]byte(nil), l.Msg...)
	oob := unix.UnixRights(-1) // the fd stored by the child
	iov := &unix.Iovec{Base: &msg[0]}
	iov.SetLen(len(msg))
	hdr := &unix.Msghdr{Iov: iov, Control: &oob[0]}
	hdr.SetIovlen(1)
	hdr.SetControllen(len(oob))
	ack := make([]byte, len(l.Ack))
	p.Keep(msg)
	p.Keep(oob)
	p.Keep(iov)
	p.Keep(hdr)
	p.Keep(ack)
	fd := p.Reg()
	g := p.NewGroup(LoadStep(f, nil))
	g.Add(raw.Op{Trap: unix.SYS_SECCOMP, Args: [6]uintptr{unix.SECCOMP_SET_MODE_FILTER, uintptr(f.Flags), uintptr(unsafe.Pointer(prog))}, Out: fd},
		step.Step{}, func(e syscall.Errno) error { return loadErr(f, e) })
	g.Add(raw.Op{Trap: raw.Store, Ptr: unsafe.Pointer(&oob[unix.CmsgLen(0)]), In: [6]raw.Reg{1: fd}},
		step.Step{Op: "store", Args: "listener fd, SCM_RIGHTS"}, nil)
	sendErr := func(e syscall.Errno) error {
		return errorf("send seccomp listener fd to the runtime: %w", e)
	}
	g.Add(raw.Op{Trap: unix.SYS_SENDMSG, Args: [6]uintptr{0, uintptr(unsafe.Pointer(hdr)), 0}, In: [6]raw.Reg{l.Sock},
		Check: true, Want: uintptr(len(msg))},
		step.Step{Op: "sendmsg", Args: "listener fd, SCM_RIGHTS", Why: "the runtime passes it to the seccomp agent"}, sendErr)
	g.Add(raw.Op{Trap: unix.SYS_CLOSE, In: [6]raw.Reg{fd}}, step.Step{Op: "close", Args: "listener fd"}, nil)
	ackErr := func(e syscall.Errno) error { return errorf("seccomp listener: %w", e) }
	g.Add(raw.Op{Trap: unix.SYS_RECVFROM, Args: [6]uintptr{0, uintptr(unsafe.Pointer(&ack[0])), uintptr(len(ack)), unix.MSG_WAITALL}, In: [6]raw.Reg{l.Sock},
		Check: true, Want: uintptr(len(ack))},
		step.Step{Op: "recvfrom", Args: "the runtime's answer"}, ackErr)
	// Compared a word at a time (the child's word: Eq reads 4 or 8
	// bytes), the tail a byte at a time.
	word := int(unsafe.Sizeof(uintptr(0)))
	for i := 0; i < len(ack); {
		n := word
		if len(ack)-i < word {
			n = 1
		}
		var want uintptr
		switch n {
		case 8:
			want = uintptr(binary.NativeEndian.Uint64(l.Ack[i:]))
		case 4:
			want = uintptr(binary.NativeEndian.Uint32(l.Ack[i:]))
		default:
			want = uintptr(l.Ack[i])
		}
		g.Add(raw.Op{Trap: raw.Eq, Ptr: unsafe.Pointer(&ack[i]), Args: [6]uintptr{1: want, 2: uintptr(unix.EPROTO), 3: uintptr(n)}},
			step.Step{Op: "check", Args: fmt.Sprintf("answer[%d:%d]", i, i+n)}, ackErr)
		i += n
	}
	return nil
}
