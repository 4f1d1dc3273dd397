package process

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// DefaultSignalsStep is the last step of a container's init before
// execve: every signal at its default and none blocked, as the program
// starts under runc. execve(2) resets caught signals to SIG_DFL but keeps
// ignored ones ignored, so each signal still at SIG_IGN (one the caller
// ignored: nohup's SIGHUP, a shell's SIGINT for &, GNU make's SIGRTMIN and
// SIGRTMIN+1) is set to SIG_DFL with rt_sigaction(2) directly: the Go
// runtime will not hand 32 and 33 to os/signal. The thread's mask is
// emptied (the runtime leaves inherited blocks of signals it does not
// need, e.g. SIGUSR1, in place).
func DefaultSignalsStep() step.Step {
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
					return errorf("signal %d: %w", s, err)
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
