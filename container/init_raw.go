package container

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/exeseal"
	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/rootfs"
	"github.com/ctr-lite/ctr-lite/seccomp"
	"github.com/ctr-lite/ctr-lite/step"
)

// initEnvGo chooses the init: "go" makes create and exec start the Go
// init even where the raw one would do (to watch or compare the two),
// "raw" the raw one wherever it can.
const initEnvGo = "CTR_LITE_INIT"

// rawByDefault: without CTR_LITE_INIT, the raw init is used where it can
// be. A fork of the runtime is the runtime's binary (/proc/PID/exe): it
// is non-dumpable, and executes the program only through the sealed
// trampoline (exeseal.Trampoline), so that a program run as
// "#!/proc/self/exe" never runs the host's binary (CVE-2019-5736).
const rawByDefault = true

// needsGoInit says why p's setup needs the Go init ("" when a raw
// program in the forked child can do all of it, see rawInitProg).
func (p *Plan) needsGoInit() string {
	switch {
	case os.Getenv(initEnvGo) == "go":
		return initEnvGo + "=go"
	case !rawByDefault && os.Getenv(initEnvGo) != "raw":
		return "the raw init is used only with " + initEnvGo + "=raw"
	case !exeseal.HasTrampoline():
		return "no sealed exec trampoline for " + runtime.GOARCH + " (exeseal): a fork of the runtime must not execute the program (CVE-2019-5736)"
	case len(p.CreateContainer) > 0 || len(p.StartContainer) > 0:
		return "createContainer or startContainer hooks: the init runs programs in the container and waits for them"
	case p.Terminal:
		return "process.terminal: the init makes a pty and sends its master over the console socket"
	case len(p.UIDMappings) > 0 || len(p.GIDMappings) > 0 || hasNamespace(p.Namespaces, specs.UserNamespace):
		return "a user namespace: mount sources are opened by the runtime and sent to the init"
	case p.Seccomp != nil && p.Seccomp.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0:
		return "a seccomp notify action: the listener fd is sent to the runtime over the sync socket"
	}
	return ""
}

// hasNamespace: nss makes or joins a namespace of type typ.
func hasNamespace(nss []specs.LinuxNamespace, typ specs.LinuxNamespaceType) bool {
	for _, n := range nss {
		if n.Type == typ {
			return true
		}
	}
	return false
}

// rawFdSteps ready the fds for the trampoline (rawExecSteps), before the
// seccomp filter (fcntl may not be in a profile): the exec FIFO's O_PATH
// fd (fifoFd = trampFd-1) stays open across its execve, the trampoline's
// own fd does not. Every other fd of the runtime's the fork copied (its
// state lock among them) was made close-on-exec by the process steps and
// is gone once the trampoline runs, before it waits for start.
func rawFdSteps(prog *raw.Prog, trampFd int) {
	prog.Sys(step.Step{Op: "fcntl", Args: strconv.Itoa(trampFd-1) + ", F_SETFD, 0",
		Why: "what the trampoline opens for writing through /proc/self/fd (create's exec FIFO, exec's pipe); it closes it then"},
		unix.SYS_FCNTL, uintptr(trampFd-1), unix.F_SETFD, 0)
	prog.Sys(step.Step{Op: "fcntl", Args: strconv.Itoa(trampFd) + ", F_SETFD, FD_CLOEXEC",
		Why: "the trampoline's memfd: executed by fd, not passed to the program"},
		unix.SYS_FCNTL, uintptr(trampFd), unix.F_SETFD, unix.FD_CLOEXEC)
}

// rawReadySteps end the setup of the raw program, before the signals
// reset and the trampoline: the parent-death signal cleared (the
// container outlives create, the process exec), and for create Done
// (create records the container and exits). An exec reports no Done: the
// runtime waits for its status pipe's EOF at the trampoline's execve, then
// for the trampoline on its pipe.
func rawReadySteps(prog *raw.Prog, exec bool) {
	if exec {
		prog.Sys(step.Step{Op: "prctl", Args: "PR_SET_PDEATHSIG, 0",
			Why: "the process outlives exec from here"}, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, 0)
		return
	}
	prog.Sys(step.Step{Op: "prctl", Args: "PR_SET_PDEATHSIG, 0",
		Why: "the container outlives create from here"}, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, 0)
	prog.Done(step.Step{Op: "write", Args: `status pipe, "done"`,
		Why: "tell the runtime the container is set up; the status pipe closes"})
}

// rawExecSteps end a created container's raw program: execve of the
// sealed trampoline (exeseal.Trampoline) in place of the program, so that
// /proc/self/exe never names the runtime's binary once the container's
// code can run. The trampoline waits for `start` on the exec FIFO, writes
// its "0" and executes the program the child found in its $PATH (the
// register path): the same sequence as the Go init's waitStartStep and
// execve, and a failure of that execve reaches `start` the same way.
func rawExecSteps(prog *raw.Prog, fifoFd, trampFd int, path raw.Reg, args, env []string) error {
	fifo := "/proc/self/fd/" + strconv.Itoa(fifoFd)
	argv, err := syscall.SlicePtrFromStrings(append([]string{"ctr-lite-exec", fifo, "", ""}, args...))
	if err != nil {
		return errorf("process: args: %w", err)
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return errorf("process: env: %w", err)
	}
	prog.Keep(argv)
	prog.Keep(envp)
	// argv[2] starts the failed execve's name as the Go init's execve
	// step gives it; the trampoline writes the path after it, start the
	// args (trampolineFailure).
	name, err := syscall.BytePtrFromString(`execve "`)
	if err != nil {
		return err
	}
	argv[2] = name
	prog.Keep(name)
	prog.Add(raw.Op{Trap: raw.Store, Ptr: unsafe.Pointer(&argv[3]), In: [6]raw.Reg{1: path}, Args: [6]uintptr{3: 8}}, step.Step{})
	tramp := "/proc/self/fd/" + strconv.Itoa(trampFd)
	tp, err := prog.Str(tramp)
	if err != nil {
		return err
	}
	empty, err := prog.Str("")
	if err != nil {
		return err
	}
	argvp, envpp := uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0]))
	why := "not the runtime's binary: /proc/self/exe names the sealed trampoline from here (CVE-2019-5736); it opens " + fifo + " for writing, writes \"0\" and executes the program"
	// By fd: a process that is not dumpable (ours) may not traverse its
	// own /proc/self/fd once it is not root.
	i := prog.Sys(step.Step{Op: "execveat", Args: fmt.Sprintf("%d (ctr-lite's sealed exec trampoline), \"\", [\"ctr-lite-exec\" %q <program> %q], AT_EMPTY_PATH", trampFd, fifo, args), Why: why},
		unix.SYS_EXECVEAT, uintptr(trampFd), empty, argvp, envpp, unix.AT_EMPTY_PATH)
	// A seccomp profile that allows execve(2) only.
	prog.Ops[i].Else = [2]syscall.Errno{unix.EPERM, unix.ENOSYS}
	prog.JumpHere(i)
	prog.Sys(step.Step{Op: "execve", Args: fmt.Sprintf("%q, [\"ctr-lite-exec\" %q <program> %q]", tramp, fifo, args),
		Why: "execveat(2) refused (a seccomp profile): the same trampoline by its path"},
		unix.SYS_EXECVE, tp, argvp, envpp)
	return nil
}

// stdio are the container process's fds 0, 1, 2 as the child gets them.
func (sp *spawn) stdio() [3]*os.File { return [3]*os.File{sp.stdin, sp.stdout, sp.stderr} }

// rawInitProg compiles p into the program the raw-forked child runs in
// place of the Go init (Init): the same steps in the same order (see
// initSteps, initRootfsSteps, initProcessSteps), as system calls with
// every argument computed here. It returns a *raw.NeedsGo when a step
// needs the Go init (Plan.needsGoInit, or a part its package cannot
// express as raw calls).
func rawInitProg(p *Plan, exec, explain bool, stdio [3]*os.File) (*raw.Prog, error) {
	if why := p.needsGoInit(); why != "" {
		return nil, &raw.NeedsGo{Why: why}
	}
	prog := &raw.Prog{Explain: explain, Prefix: "init"}
	if !exec {
		if p.NewCgroupNS {
			st := unshareCgroupStep()
			st.Do = nil
			prog.Sys(st, unix.SYS_UNSHARE, unix.CLONE_NEWCGROUP)
		}
		if p.RuntimeHooks {
			// The runtime runs them, in its namespaces, with our pid
			// (spawn.startRaw's OnAsk), as it does for the Go init.
			prog.Add(raw.Op{Trap: raw.Ask}, step.Step{Op: "write, read", Args: `status pipe "ask", go-ahead pipe`,
				Why: "the runtime runs the prestart and createRuntime hooks in its namespaces, with our pid, then lets us go on"})
		}
	}
	if !p.NoNewKeyring {
		if err := process.SessionKeyringRaw(prog, p.ID); err != nil {
			return nil, err
		}
	}
	if !exec {
		rc := *p.Rootfs
		if p.hasCgroupMount() {
			cv, err := rootfs.CgroupViewOf(p.Cgroup.Dirs())
			if err != nil {
				return nil, err
			}
			if p.dryRun {
				cv = cv.Unmade() // create makes them first
			}
			rc.CgroupView = cv
		}
		if err := rootfs.RawSteps(rc, prog); err != nil {
			return nil, err
		}
	}
	if err := rawProcessSteps(p, exec, prog, stdio); err != nil {
		return nil, err
	}
	return prog, nil
}

// rawProcessSteps are initProcessSteps as raw ops: the process package's
// steps with the capability and seccomp ops at processSteps' places, then
// (create) the ready record and the wait for `start`, the signals reset,
// and execve of the program the child found in its $PATH.
func rawProcessSteps(p *Plan, exec bool, prog *raw.Prog, stdio [3]*os.File) error {
	pc := p.Process
	if exec {
		// The container's root as its init sees it (its mounts too).
		pc.Root = "/proc/" + strconv.Itoa(p.InitPid) + "/root"
	} else {
		pc.Root = p.Rootfs.Rootfs
	}
	r, err := process.ResolveForRaw(pc)
	if err != nil {
		return err
	}
	for i := 0; i < p.PreserveFds; i++ {
		pc.KeepFDs = append(pc.KeepFDs, 3+i)
	}
	if pc.Stdio, err = statStdio(stdio); err != nil {
		return err
	}
	filter := func(prog *raw.Prog) error {
		if p.Seccomp == nil {
			return nil
		}
		return seccomp.LoadRaw(prog, p.Seccomp)
	}
	before := func(prog *raw.Prog) error {
		if !pc.Process.NoNewPrivileges {
			// Without no_new_privs, loading a filter needs
			// CAP_SYS_ADMIN: load it before the user change.
			if err := filter(prog); err != nil {
				return err
			}
		}
		if err := process.AttrRaw(prog, p.Personality, pc.Process.IOPriority); err != nil {
			return err
		}
		return p.Caps.BoundingRaw(prog)
	}
	after := func(prog *raw.Prog) error {
		rawRearmPdeathsig(prog)
		return p.Caps.ApplyRaw(prog)
	}
	last := func(prog *raw.Prog) error {
		rawFdSteps(prog, p.trampFd())
		if err := process.LSMRaw(prog, &pc.Process); err != nil {
			return err
		}
		if pc.Process.NoNewPrivileges {
			if err := filter(prog); err != nil {
				return err
			}
		}
		rawReadySteps(prog, exec)
		return nil
	}
	pc.Raw = process.RawHooks{BeforeUser: before, AfterUser: after, Last: last}
	if err := process.RawSteps(pc, r, prog); err != nil {
		return err
	}
	process.DefaultSignalsRaw(prog)
	return rawExecSteps(prog, p.rawFifoFd(), p.trampFd(), r.PathReg, r.Args, r.Env)
}

// rawFifoFd is the fd the raw child has what the trampoline opens for
// writing at: create's exec FIFO, or the write end of exec's pipe
// (spawn.startRaw); both where the plan puts the FIFO, after the sync
// socket's number (rawNamespaces).
func (p *Plan) rawFifoFd() int { return p.SyncFd + 1 }

// trampFd is the fd the raw child has the exec trampoline at: right after
// rawFifoFd.
func (p *Plan) trampFd() int { return p.SyncFd + 2 }

// statStdio is process.StatStdio of the files the child gets as 0, 1, 2:
// a nil one is /dev/null (namespaces.Start opens it).
func statStdio(stdio [3]*os.File) ([3]process.StdioFile, error) {
	fds := [3]int{-1, -1, -1}
	for i, f := range stdio {
		if f != nil {
			fds[i] = int(f.Fd())
		}
	}
	st, err := process.StatStdio(fds)
	for i, f := range stdio {
		if f == nil {
			st[i] = process.StdioFile{Known: true, Null: true}
		}
	}
	return st, err
}

// rawRearmPdeathsig is rearmPdeathsigStep as raw ops: the user change
// cleared PR_SET_PDEATHSIG; set it again, then check the runtime is still
// there: it holds the go-ahead pipe's write end until the child is done,
// so ppoll(2) sees POLLHUP only if it died before the signal was armed.
func rawRearmPdeathsig(prog *raw.Prog) {
	st := rearmPdeathsigStep(nil)
	st.Do = nil
	prog.Sys(st, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL))
	pfd := &unix.PollFd{Events: unix.POLLIN}
	ts := &unix.Timespec{}
	prog.Keep(pfd)
	prog.Keep(ts)
	prog.Add(raw.Op{Trap: raw.Store, Ptr: unsafe.Pointer(&pfd.Fd), In: [6]raw.Reg{1: raw.RegGo}}, step.Step{})
	i := prog.Sys(step.Step{Op: "ppoll", Args: "go-ahead pipe, POLLIN, timeout 0",
		Why: "0: the runtime still holds the pipe; POLLHUP: it died before the signal was armed"},
		unix.SYS_PPOLL, uintptr(unsafe.Pointer(pfd)), 1, uintptr(unsafe.Pointer(ts)), 0, 0)
	prog.Ops[i].Check, prog.Ops[i].Want = true, 0
}
