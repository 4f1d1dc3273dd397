package container

import (
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/exeseal"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// startRaw starts the container's process with no second Go runtime: the
// raw-forked child joins its cgroup and namespaces, then runs prog (the
// whole setup as system calls, see rawInitProg) and, for create, waits on
// the exec FIFO; for exec it executes the program at once. Start returns
// when the child reported Done (create) or executed the program (exec).
func (sp *spawn) startRaw(c *Container, h *Handle, run *step.Runner, prog *raw.Prog) error {
	tramp, err := exeseal.Trampoline()
	if err != nil {
		return err
	}
	defer tramp.Close()
	run.Note("the program is executed through %s, a sealed memfd of %d bytes (CVE-2019-5736)", tramp.Name(), exeseal.TrampolineSize())
	fifo := sp.fifo
	var execR *os.File
	if sp.cfg.Exec {
		// exec's trampoline writes "0" and a failed execve to a pipe,
		// as create's writes to the exec FIFO for start.
		var execW *os.File
		if execR, execW, err = os.Pipe(); err != nil {
			return errorf("pipe: %w", err)
		}
		defer execR.Close()
		defer execW.Close()
		// The trampoline reopens it through /proc/self/fd as the
		// process's user, as it does the 0622 exec FIFO.
		if err := unix.Fchmod(int(execW.Fd()), 0o622); err != nil {
			return errorf("fchmod exec pipe: %w", err)
		}
		fifo = execW
	}
	ns := rawNamespaces(sp.cfg.Plan, sp.stdio(), fifo, tramp, prog)
	ns.CgroupFD, ns.CgroupTasks, ns.CgroupProcs = sp.cgroup.Dir, sp.cgroup.Tasks, sp.cgroup.Procs
	if h != nil && sp.cfg.Plan.RuntimeHooks {
		ns.OnAsk = func(pid int) error { return runtimeHooks(h, pid) }
	}
	// The kernel sends the parent-death signal when the forking thread
	// exits: keep it until Start returns.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := namespaces.Start(ns, run)
	if err != nil {
		return err
	}
	c.Init = p
	if h == nil {
		fifo.Close()
		return awaitTrampoline(execR, sp.cfg.Plan.Process.Process.Args)
	}
	start, _, err := processStart(p.Pid)
	if err != nil {
		return errorf("init process %d: %w", p.Pid, err)
	}
	h.State.Pid, h.State.PidStart = p.Pid, start
	return nil
}

// runtimeHooks runs the prestart and createRuntime hooks for a raw child
// that asked (raw.Ask), as awaitInit does for the Go init's "hooks": the
// state records its pid first, so that a create killed in a hook leaves a
// state delete --force can clean up.
func runtimeHooks(h *Handle, pid int) error {
	start, _, err := processStart(pid)
	if err != nil {
		return errorf("init process %d: %w", pid, err)
	}
	h.State.Pid, h.State.PidStart = pid, start
	if err := h.Save(); err != nil {
		return err
	}
	return runHooks("createRuntime", createRuntimeHooks(h.State.Config), ociState(&h.State, specs.StateCreating))
}

// awaitTrampoline reads exec's pipe until EOF: the trampoline's "0",
// then nothing if the program runs (the pipe is close-on-exec), or why
// its execve failed (start's readInit reads create's the same way).
func awaitTrampoline(r *os.File, args []string) error {
	got, err := io.ReadAll(r)
	if err != nil {
		return errorf("exec pipe: %w", err)
	}
	switch {
	case len(got) == 0:
		return errorf("the process exited before it executed %q", args)
	case len(got) == 1:
		return nil
	}
	if err, ok := trampolineFailure(got[1:], &specs.Spec{Process: &specs.Process{Args: args}}); ok {
		return err
	}
	return errorf("exec: %s", got[1:])
}

// rawNamespaces is how the raw child is started: in the plan's
// namespaces, with stdio and the fds as the plan numbered them (the
// preserved ones, no sync socket: a nil leaves its number closed, the
// FIFO, the exec trampoline), running prog.
func rawNamespaces(plan *Plan, stdio [3]*os.File, fifo, tramp *os.File, prog *raw.Prog) *namespaces.Config {
	var extra []*os.File
	for i := 0; i < plan.PreserveFds; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved-"+strconv.Itoa(3+i)))
	}
	extra = append(extra, nil)
	if fifo != nil {
		extra = append(extra, fifo)
	}
	if tramp != nil {
		extra = append(extra, tramp)
	}
	return &namespaces.Config{
		Namespaces:  plan.Namespaces,
		UIDMappings: plan.UIDMappings,
		GIDMappings: plan.GIDMappings,
		Stdin:       stdio[0], Stdout: stdio[1], Stderr: stdio[2],
		ExtraFiles: extra,
		// The child dies with us until its setup is done (its program
		// clears the signal before Done).
		ParentDeathSignal: unix.SIGKILL,
		Prog:              prog,
	}
}

// rawInitNote says which init sets the container up, for --explain and
// create --dry-run.
func rawInitNote(run *step.Runner, err error) {
	var ng *raw.NeedsGo
	if errors.As(err, &ng) {
		run.Note("the Go init (ctr-lite re-executed) sets the container up: %s", ng.Why)
		return
	}
	run.Note("no init process: the forked child sets the container up with the system calls below, then executes the program")
}
