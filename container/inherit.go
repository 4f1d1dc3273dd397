package container

import (
	"os"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
