// Package raw is a program of system calls for a forked child that may not
// use the Go runtime.
//
// After fork(2) of a multithreaded Go process only the calling thread
// exists in the child: the child may not allocate, take a lock or grow its
// stack, because the threads that own the heap, the locks and the stacks
// did not come along (syscall.forkAndExecInChild1 lives by the same rule).
// So the parent computes every argument of every call as a word (pointers
// into memory it keeps alive, flags, fd numbers) and the child only loads
// words and traps. A few rules let one call's result feed the next and an
// expected errno take another branch, which is all a container's setup
// needs: open a directory in the root, mount on it by fd, skip a masked
// path that is missing, choose the first program found in $PATH.
//
// A Prog is built by the packages that own the kernel steps (rootfs,
// process, caps, seccomp) and run by package namespaces in the child it
// forks. Every op carries the step.Step that describes it: --explain
// prints it, and a failure is reported as that step's error.
package raw

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/ctr-lite/ctr-lite/step"
)

// Reg names one of the child's registers: a word a call's result is stored
// in (an fd it opened) and a later call takes as an argument. Reg 0 is "no
// register".
type Reg uint8

// NRegs is how many registers a child has (Reg 1 .. NRegs-1).
const NRegs = 64

// Registers set by the runner before the first op.
const (
	// RegStatus holds the status pipe's write end (package namespaces).
	RegStatus Reg = 1
	// RegErr, when non-zero, is where a failure is written once the
	// status pipe is closed (Done): the exec FIFO's write end, so that
	// `start` reads why the program could not be executed.
	RegErr Reg = 2
	// RegGo holds the go-ahead pipe's read end: the parent holds its
	// write end until the child reported Done, so POLLHUP on it means the
	// parent died (a PR_SET_PDEATHSIG armed too late never fires).
	RegGo     Reg = 3
	firstFree     = 4
)

// Pseudo-traps: ops that are not system calls.
const (
	// Goto continues at Op.Jump.
	Goto uintptr = ^uintptr(0) - iota
	// Set stores Args[0] in register Out.
	Set
	// Eq fails with errno Args[2] unless the Args[3]-byte word (1, 4 or
	// 8) at Ptr is Args[1]: getcwd(2)'s answer starts with '/' only
	// when the cwd is under the root (CVE-2024-21626); fstatfs(2)'s
	// f_type of a real procfs is PROC_SUPER_MAGIC.
	Eq
	// Store stores Args[1] (usually register In[1]) as a 4-byte word at
	// Ptr: an fd the child opened, put into a message it sends
	// (SCM_RIGHTS).
	Store
	// Fail fails with errno Args[0] (the end of a search that found
	// nothing).
	Fail
	// Done tells the parent the setup is complete (a record on the status
	// pipe), closes the status pipe and sends later failures to RegErr.
	Done
	// Ask stops the child until the parent did its part (a record on the
	// status pipe, then the go-ahead byte on RegGo): the createRuntime
	// hooks, which run in the runtime's namespaces with the child's pid
	// (namespaces.Config.OnAsk).
	Ask
)

// Op is one system call (or pseudo-trap) of the child.
type Op struct {
	Trap uintptr
	Args [6]uintptr
	// In: Args[i] is replaced by the value of register In[i] when it is
	// not 0.
	In [6]Reg
	// Out, when not 0, receives the call's result (r1) on success.
	Out Reg
	// If, when not 0, skips the op unless register If is non-zero.
	If Reg
	// Else: a call failing with one of these errnos continues at op Jump
	// instead of failing the child (ENOENT: nothing to mask there).
	Else [2]syscall.Errno
	// Ptr is the memory Eq reads and Store writes (a pointer, so that
	// what it points into stays alive with the op).
	Ptr unsafe.Pointer
	// Jump is the op index Goto and Else continue at.
	Jump int32
	// Check: the call must return Want (a read of the go-ahead byte
	// returns 0 if the parent died), else the child fails with EPIPE.
	Check bool
	Want  uintptr
	// Fork: the call is clone(2); the parent side reports the new pid and
	// exits, the new process carries on with the next op.
	Fork bool
	// UnlessBorn: skip the call when the child was born in its cgroup
	// (clone3 CLONE_INTO_CGROUP worked): the cgroup.procs join.
	UnlessBorn bool
	// Say, SayLen: a line the child writes to fd 2 before the op
	// (--explain). Name, NameLen: the op's description, written after a
	// failure record sent to RegErr (only `start` reads it, which does not
	// know the ops).
	Say, SayLen   uintptr
	Name, NameLen uintptr
}

// Prog is a child's ops, their descriptions, and the memory they point
// into. Its zero value is an empty program.
type Prog struct {
	Ops   []Op
	Steps []step.Step // Steps[i] describes Ops[i]
	// Explain: ops get their description as a line to write (Say).
	Explain bool
	// Prefix tags explained lines, as step.Runner's does ("init").
	Prefix string
	// Errs maps an op index to the error its failure means, when the
	// step's own "op args: errno" would not say it (a program not found
	// in $PATH).
	Errs map[int]func(syscall.Errno) error

	keep []any
	nreg Reg
	done bool
}

// Reg returns a fresh register.
func (p *Prog) Reg() Reg {
	if p.nreg == 0 {
		p.nreg = firstFree
	}
	if p.nreg >= NRegs {
		panic("raw: out of registers")
	}
	r := p.nreg
	p.nreg++
	return r
}

// Str returns a pointer to a NUL-terminated copy of s that lives as long
// as p. A string holding a NUL is refused (the kernel would cut it there).
func (p *Prog) Str(s string) (uintptr, error) {
	b, err := syscall.BytePtrFromString(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	p.keep = append(p.keep, b)
	return uintptr(unsafe.Pointer(b)), nil
}

// Strs returns a pointer to a NULL-terminated array of C strings (argv,
// envp).
func (p *Prog) Strs(ss []string) (uintptr, error) {
	a, err := syscall.SlicePtrFromStrings(ss)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", ss, err)
	}
	p.keep = append(p.keep, a)
	return uintptr(unsafe.Pointer(&a[0])), nil
}

// Bytes returns a pointer to a copy of b (a struct's bytes, a buffer the
// child writes into); nil or empty b gives a pointer to one zero byte.
func (p *Prog) Bytes(b []byte) uintptr {
	c := make([]byte, len(b)+1)
	copy(c, b)
	p.keep = append(p.keep, c)
	return uintptr(unsafe.Pointer(&c[0]))
}

// Keep keeps v (a pointer the ops hold as a word) alive as long as p.
func (p *Prog) Keep(v any) { p.keep = append(p.keep, v) }

// KeepAlive is runtime.KeepAlive for everything p's ops point into: call
// it after the child has forked.
func (p *Prog) KeepAlive() []any { return p.keep }

// Add appends o, described by st, and returns its index.
func (p *Prog) Add(o Op, st step.Step) int {
	if p.Explain && st.Op != "" {
		line := "explain: " + st.String() + "\n"
		if p.Prefix != "" {
			line = "explain[" + p.Prefix + "]: " + st.String() + "\n"
		}
		o.Say, o.SayLen = p.Bytes([]byte(line)), uintptr(len(line))
	}
	if p.done {
		name := st.Op
		if st.Args != "" {
			name += " " + st.Args
		}
		o.Name, o.NameLen = p.Bytes([]byte(name)), uintptr(len(name))
	}
	p.Ops = append(p.Ops, o)
	p.Steps = append(p.Steps, st)
	return len(p.Ops) - 1
}

// Sys appends the system call trap(args...) described by st.
func (p *Prog) Sys(st step.Step, trap uintptr, args ...uintptr) int {
	o := Op{Trap: trap}
	copy(o.Args[:], args)
	return p.Add(o, st)
}

// Here is the index the next op will have: a Jump target.
func (p *Prog) Here() int32 { return int32(len(p.Ops)) }

// JumpHere makes the ops at idx continue here (Goto, Else).
func (p *Prog) JumpHere(idx ...int) {
	for _, i := range idx {
		p.Ops[i].Jump = p.Here()
	}
}

// Done appends the op that reports the setup complete: later ops (the
// wait for `start`, execve) report a failure through RegErr.
func (p *Prog) Done(st step.Step) {
	p.Add(Op{Trap: Done}, st)
	p.done = true
}

// HasDone reports whether p has a Done op: the runner returns when the
// child reaches it, not at its execve.
func (p *Prog) HasDone() bool { return p.done }

// Error is the error a failure record (op index i, errno e) stands for.
func (p *Prog) Error(i int, e syscall.Errno) error {
	if i < 0 || i >= len(p.Steps) {
		return fmt.Errorf("child failed at op %d: %w", i, e)
	}
	if f := p.Errs[i]; f != nil {
		return f(e)
	}
	return &step.Error{Step: p.Steps[i], Err: e}
}

// NeedsGo is the reason a config cannot be set up by a Prog: a step that
// needs Go (a program to run and wait for, a tree to copy). The runtime
// then starts its Go init, which runs every step.
type NeedsGo struct{ Why string }

func (e *NeedsGo) Error() string { return "needs the Go init: " + e.Why }

// FailMagic starts a failure the child writes to RegErr (after Done): the
// magic, then the record (kind, op index, errno: three native-endian
// uint32), then the op's name. `start` reads it from the exec FIFO, where
// a Go init writes its error as text.
const FailMagic = "\x00raw"

// DecodeFailure turns what a child wrote to RegErr into its error; ok is
// false when b is not such a failure.
func DecodeFailure(b []byte) (err error, ok bool) {
	n := len(FailMagic)
	if len(b) < n+12 || string(b[:n]) != FailMagic {
		return nil, false
	}
	errno := binary.NativeEndian.Uint32(b[n+8:])
	return fmt.Errorf("%s: %w", b[n+12:], syscall.Errno(errno)), true
}
