package namespaces

import (
	"syscall"
	"unsafe" // for go:linkname and the record pointers

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
)

// The Go runtime's fork hooks, as package syscall uses them around its own
// fork. They are pushed by the runtime under syscall's names and kept for
// gVisor (runtime/proc.go, "hall of shame", go.dev/issue/67401), so the
// linker lets this package pull them.

// beforeFork blocks every signal on this thread and poisons the
// goroutine's stack guard, so any stack growth in the child crashes
// loudly instead of corrupting the copied heap.
//
//go:linkname beforeFork syscall.runtime_BeforeFork
func beforeFork()

// afterFork undoes beforeFork in the parent.
//
//go:linkname afterFork syscall.runtime_AfterFork
func afterFork()

// afterForkInChild resets the signal handlers to their defaults and
// restores the signal mask, ready for execve.
//
//go:linkname afterForkInChild syscall.runtime_AfterForkInChild
func afterForkInChild()

// op is one raw system call the child makes (see package raw): the parent
// computes every argument (pointers to NUL-terminated strings it keeps
// alive, file descriptor numbers) so the child only loads words and traps.
// After fork it may not allocate, take locks or grow its stack, because
// the runtime's other threads (that own those) did not come along.
type op = raw.Op

// record is one message the child writes to the status pipe: a kind, the
// index of the op, and a value (the errno, or the new pid).
type record [3]uint32

const (
	recReady uint32 = 1 // the namespaces are made: write the maps, then send the go-ahead
	recPID   uint32 = 2 // value: pid of the process forked into the new PID namespace
	recFail  uint32 = 3 // value: errno of op index
	recDone  uint32 = 4 // the setup is complete (raw.Done); the status pipe closes
	recAsk   uint32 = 5 // the child waits for the go-ahead after Config.OnAsk (raw.Ask)
)

// childMem is what the child writes: records built in memory the parent
// allocated (the child has its own copy-on-write copy of it).
type childMem struct {
	status uintptr // write end of the status pipe
	closed bool    // status was closed by raw.Done: failures go to regs[raw.RegErr]
	pid    record
	fail   record
	done   record
	ask    record
	goByte [1]byte
	// failMsg is raw.FailMagic then fail: a failure sent to RegErr.
	failMsg [len(raw.FailMagic) + 12]byte
	regs    [raw.NRegs]uintptr
}

// cloneArgs is struct clone_args of clone3(2), up to the cgroup field
// (CLONE_ARGS_SIZE_VER2, Linux 5.7). A zero stack makes the child run on
// a copy of the caller's stack, as fork(2) does.
type cloneArgs struct {
	flags      uint64
	pidfd      uint64
	childTID   uint64
	parentTID  uint64
	exitSignal uint64
	stack      uint64
	stackSize  uint64
	tls        uint64
	setTID     uint64
	setTIDSize uint64
	cgroup     uint64
}

// forkAndRun forks a single-threaded child that runs ops and never
// returns (its last op is execve). It returns the child's pid in the
// parent. The caller holds syscall.ForkLock.
//
// With ca non-nil the fork is clone3(ca) (CLONE_INTO_CGROUP: the child is
// born in the cgroup, no cgroup.procs write needed); if the kernel has no
// clone3 or does not know the flag or the struct's size (ENOSYS, E2BIG,
// EINVAL: older than 5.7, or a seccomp filter), it falls back to clone and
// reports fellBack, so the caller still moves the child.
//
// The child is a plain fork(2) of this process (clone with only SIGCHLD),
// not a clone of the Go runtime: only the calling thread is copied. That is
// the point: setns(2) of a user namespace (userns_install: "thread group
// not empty" -> EINVAL) and of a time namespace (timens_install -> EUSERS)
// are refused to a multithreaded caller, and every Go program is one.
//
// Everything after the clone in the child happens in this one frame (no
// calls but the nosplit runtime hooks and syscall.RawSyscall6), with all
// variables declared before the fork, as syscall.forkAndExecInChild1 does.
//
//go:noinline
//go:norace
//go:nocheckptr
func forkAndRun(ops []op, m *childMem, ca *cloneArgs) (pid int, fellBack bool, err syscall.Errno) {
	var (
		r1 uintptr
		e  syscall.Errno
		i  int
		j  int
		o  *op
		a  [6]uintptr
		ok bool
	)
	beforeFork()
	if ca != nil {
		r1, _, e = syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(ca)), unsafe.Sizeof(*ca), 0)
		if e != syscall.ENOSYS && e != syscall.E2BIG && e != syscall.EINVAL {
			goto forked
		}
		fellBack = true
	}
	// clone(SIGCHLD): like fork(2). SIGCHLD is the signal the parent gets
	// when the child dies, so wait4/waitid treat it as a normal child.
	// (The flags are the first argument on every architecture but s390x.)
	r1, _, e = syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
forked:
	if e != 0 || r1 != 0 {
		afterFork()
		return int(r1), fellBack, e
	}

	// In the child: one thread, signals blocked, the runtime frozen.
	afterForkInChild()
	for i = 0; i < len(ops); i++ {
		o = &ops[i]
		if o.UnlessBorn && ca != nil && !fellBack {
			continue
		}
		if o.If != 0 && m.regs[o.If] == 0 {
			continue
		}
		if o.SayLen != 0 {
			syscall.RawSyscall(syscall.SYS_WRITE, 2, o.Say, o.SayLen)
		}
		for j = 0; j < 6; j++ {
			a[j] = o.Args[j]
			if o.In[j] != 0 {
				a[j] = m.regs[o.In[j]]
			}
		}
		switch o.Trap {
		case raw.Goto:
			i = int(o.Jump) - 1
			continue
		case raw.Set:
			m.regs[o.Out] = a[0]
			continue
		case raw.Store:
			*(*int32)(o.Ptr) = int32(a[1])
			continue
		case raw.Eq:
			switch a[3] {
			case 1:
				ok = uintptr(*(*uint8)(o.Ptr)) == a[1]
			case 4:
				ok = uintptr(*(*uint32)(o.Ptr)) == a[1]
			default:
				ok = uintptr(*(*uint64)(o.Ptr)) == a[1]
			}
			if !ok {
				e = syscall.Errno(a[2])
				goto fail
			}
			continue
		case raw.Fail:
			e = syscall.Errno(a[0])
			goto fail
		case raw.Ask:
			m.ask[0], m.ask[1] = recAsk, uint32(i)
			syscall.RawSyscall(syscall.SYS_WRITE, m.status, uintptr(unsafe.Pointer(&m.ask)), unsafe.Sizeof(m.ask))
			r1, _, e = syscall.RawSyscall(syscall.SYS_READ, m.regs[raw.RegGo], uintptr(unsafe.Pointer(&m.goByte)), 1)
			if e == 0 && r1 != 1 {
				e = syscall.EPIPE
			}
			if e != 0 {
				goto fail
			}
			continue
		case raw.Done:
			// A runtime that died before it read Done gets no container:
			// the write fails (or SIGPIPE ends us) and the child exits.
			m.done[0], m.done[1] = recDone, uint32(i)
			r1, _, e = syscall.RawSyscall(syscall.SYS_WRITE, m.status, uintptr(unsafe.Pointer(&m.done)), unsafe.Sizeof(m.done))
			if e == 0 && r1 != unsafe.Sizeof(m.done) {
				e = syscall.EPIPE
			}
			if e != 0 {
				goto fail
			}
			syscall.RawSyscall(syscall.SYS_CLOSE, m.status, 0, 0)
			m.closed = true
			continue
		}
		r1, _, e = syscall.RawSyscall6(o.Trap, a[0], a[1], a[2], a[3], a[4], a[5])
		if e != 0 {
			if (o.Else[0] != 0 && e == o.Else[0]) || (o.Else[1] != 0 && e == o.Else[1]) {
				i = int(o.Jump) - 1
				continue
			}
			goto fail
		}
		if o.Out != 0 {
			m.regs[o.Out] = r1
		}
		if o.Check && r1 != o.Want {
			e = syscall.EPIPE
			goto fail
		}
		if o.Fork && r1 != 0 {
			// The intermediate process: report the pid of the one it
			// forked (as seen from the parent's PID namespace) and exit.
			m.pid[0], m.pid[1], m.pid[2] = recPID, uint32(i), uint32(r1)
			syscall.RawSyscall(syscall.SYS_WRITE, m.status, uintptr(unsafe.Pointer(&m.pid)), unsafe.Sizeof(m.pid))
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
	}
	// The last op is execve, which returns only on failure.
	i = len(ops) - 1
	e = syscall.ENOEXEC
fail:
	m.fail[0], m.fail[1], m.fail[2] = recFail, uint32(i), uint32(e)
	if !m.closed {
		syscall.RawSyscall(syscall.SYS_WRITE, m.status, uintptr(unsafe.Pointer(&m.fail)), unsafe.Sizeof(m.fail))
	} else if m.regs[raw.RegErr] != 0 {
		// After Done nobody reads the status pipe: `start` reads the
		// exec FIFO. The op's name follows the record.
		for j = 0; j < len(m.failMsg)-12; j++ {
			m.failMsg[j] = raw.FailMagic[j]
		}
		*(*record)(unsafe.Pointer(&m.failMsg[len(m.failMsg)-12])) = m.fail
		syscall.RawSyscall(syscall.SYS_WRITE, m.regs[raw.RegErr], uintptr(unsafe.Pointer(&m.failMsg)), uintptr(len(m.failMsg)))
		syscall.RawSyscall(syscall.SYS_WRITE, m.regs[raw.RegErr], ops[i].Name, ops[i].NameLen)
	}
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
}
