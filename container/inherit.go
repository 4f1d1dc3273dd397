package container

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// What the Go runtime does to its own process must not reach the
// container's program. The init is a raw fork of the runtime (package
// namespaces), itself a Go program, so two things of theirs would:
//
//   - RLIMIT_NOFILE: at start the Go runtime raises its soft limit to the
//     hard one minus 1 and keeps the original (syscall.origRlimitNofile,
//     unexported) to give back to the children os.StartProcess makes. A
//     raw fork does not give it back, so the program got 19999 where the
//     caller had 1024 (runc 1.1.5 had the same bug; since 1.2 the caller's
//     value is kept).
//   - Signal dispositions: the runtime of the init keeps an inherited
//     SIG_IGN for SIGHUP and SIGINT (a caller under nohup, or started with
//     & by a shell), and execve keeps ignored signals ignored.

// callerNofile is this process's RLIMIT_NOFILE as its caller set it, or
// nil when it could not be found. When the soft limit is not the hard
// limit minus 1 the Go runtime did not raise it: that is the caller's.
// Otherwise a child started with os.StartProcess gets the original back
// right before execve; PTRACE_TRACEME stops it just after execve, before
// it runs an instruction, and its limit is read there (prlimit(2)). The
// probe costs about half a millisecond; without ptrace (Yama
// ptrace_scope 3, a seccomp profile) the limit stays as it is.
func callerNofile() *unix.Rlimit {
	var cur unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_NOFILE, nil, &cur); err != nil {
		return nil
	}
	if cur.Max == 0 || cur.Cur != cur.Max-1 {
		return &cur
	}
	p, err := os.StartProcess("/proc/self/exe", []string{"ctr-lite-rlimit-probe"},
		&os.ProcAttr{Sys: &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL}})
	if err != nil {
		return nil
	}
	var lim unix.Rlimit
	err = unix.Prlimit(p.Pid, unix.RLIMIT_NOFILE, nil, &lim)
	p.Kill()
	p.Wait()
	if err != nil {
		return nil
	}
	return &lim
}

// withCallerNofile returns the process with the caller's RLIMIT_NOFILE
// added when the config sets none (config.md "rlimits": unset ones are
// inherited, and the caller is who they are inherited from).
func withCallerNofile(p *specs.Process, lim *unix.Rlimit) *specs.Process {
	if lim == nil {
		return p
	}
	for _, r := range p.Rlimits {
		if r.Type == "RLIMIT_NOFILE" {
			return p
		}
	}
	q := *p
	q.Rlimits = append(append([]specs.POSIXRlimit(nil), p.Rlimits...),
		specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: lim.Cur, Hard: lim.Max})
	return &q
}

// defaultSignalsStep is the init's last step before execve: every signal
// at its default and none blocked, as the program starts under runc.
// execve(2) resets caught signals to SIG_DFL but keeps ignored ones
// ignored, so each signal still at SIG_IGN (one the caller ignored:
// nohup's SIGHUP, a shell's SIGINT for &, GNU make's SIGRTMIN and
// SIGRTMIN+1) is set to SIG_DFL with rt_sigaction(2) directly: the Go
// runtime will not hand 32 and 33 to os/signal. The thread's mask is
// emptied (the runtime leaves inherited blocks of signals it does not
// need, e.g. SIGUSR1, in place).
func defaultSignalsStep() step.Step {
	return step.Step{
		Op:   "rt_sigaction, sigprocmask",
		Args: "SIG_DFL for each signal at SIG_IGN, SIG_SETMASK {}",
		Why:  "no signal the caller (nohup, a shell's &, make) ignored or blocked stays so in the program",
		Do: func() error {
			for s := 1; s <= 64; s++ {
				if s == int(unix.SIGKILL) || s == int(unix.SIGSTOP) {
					continue
				}
				if err := unignore(s); err != nil {
					return fmt.Errorf("signal %d: %w", s, err)
				}
			}
			var none unix.Sigset_t
			return unix.PthreadSigmask(unix.SIG_SETMASK, &none, nil)
		},
	}
}

// unignore sets signal sig to SIG_DFL if it is SIG_IGN. The kernel's
// struct sigaction starts with the handler on every architecture Go
// supports here; all zeros is SIG_DFL with no flags and an empty mask.
// Signals 32 and 33 are not valid on every libc but are to the kernel.
func unignore(sig int) error {
	const sigIgn = 1
	var old, dfl [8]uintptr // larger than any arch's struct sigaction
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0,
		uintptr(unsafe.Pointer(&old[0])), 8, 0, 0) // the kernel's sigset_t: 64 bits
	if e != 0 {
		return e
	}
	if old[0] != sigIgn {
		return nil
	}
	_, _, e = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(&dfl[0])), 0, 8, 0, 0) // the kernel's sigset_t: 64 bits
	if e != 0 {
		return e
	}
	return nil
}
