package cgroups

import (
	"fmt"
	"runtime"
	"syscall"

	"github.com/ctr-lite/ctr-lite/program"
	"github.com/ctr-lite/ctr-lite/step"
)

// StartSteps start cmd inside the cgroup before it runs one instruction
// of its own: the child execs under ptrace (PTRACE_TRACEME), so the
// kernel stops it with SIGTRAP right after execve(2); it is then moved
// into the cgroup and let go (PTRACE_DETACH). This works on v1 and v2
// alike, and no thread of this Go process ever enters the group (where
// they would count against pids.max). The caller waits for cmd.
//
// The steps must run on one locked OS thread (runtime.LockOSThread):
// ptrace(2) requests come from the tracing thread. Run them with Start.
func (m *Manager) StartSteps(cmd *program.Cmd) []step.Step {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	pid := 0
	add := m.AddStep(0)
	return []step.Step{
		{
			Op:   "fork+execve",
			Args: fmt.Sprintf("%q under PTRACE_TRACEME", cmd.Args),
			Why:  "the child stops at its first instruction, still in our cgroups",
			Do: func() error {
				if err := cmd.Start(); err != nil {
					return err
				}
				pid = cmd.Process.Pid
				var ws syscall.WaitStatus
				if _, err := syscall.Wait4(pid, &ws, syscall.WALL, nil); err != nil {
					return errorf("wait4 %d: %w", pid, err)
				}
				if !ws.Stopped() || ws.StopSignal() != syscall.SIGTRAP {
					return errorf("pid %d: want a SIGTRAP stop after execve, got status %#x", pid, ws)
				}
				add = m.AddStep(pid)
				return nil
			},
		},
		{
			Op: "write", Args: "cgroup.procs=<child pid>", Why: "move the stopped child in",
			Do:       func() error { return add.Do() },
			ReadBack: func() (string, error) { return add.ReadBack() },
		},
		{
			Op: "ptrace", Args: "PTRACE_DETACH", Why: "let the child run, now inside the cgroup",
			Do: func() error { return syscall.PtraceDetach(pid) },
		},
	}
}

// Start runs StartSteps on a locked OS thread. If a step after the
// fork fails, the child is killed and reaped.
func (m *Manager) Start(r *step.Runner, cmd *program.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := r.Run(m.StartSteps(cmd)...); err != nil {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		return err
	}
	return nil
}
