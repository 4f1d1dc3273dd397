package container

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/caps"
	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/rootfs"
	"github.com/ctr-lite/ctr-lite/seccomp"
	"github.com/ctr-lite/ctr-lite/step"
)

// initEnv names the environment variable that tells a re-executed
// ctr-lite it is a container's init, and on which fd its sync socket is.
const initEnv = "_CTR_LITE_INIT"

// IsInit reports whether this process was started as a container's init.
func IsInit() bool { return os.Getenv(initEnv) != "" }

// Init is the container's init: it runs in the container's namespaces
// and cgroup, sets up the root filesystem and the process, waits for
// `start` on the exec FIFO and execs the container's program. It returns
// only on failure, after telling the runtime why.
//
// Preconditions: the main goroutine is locked to the main thread
// (runtime.LockOSThread in an init function), so every per-thread setting
// (capabilities, no_new_privs, seccomp) is on the thread that execs.
func Init() error {
	// Non-dumpable: a process of the container (an exec, or one forked
	// by a hook) may not open /proc/<init>/fd/N, cwd, root or exe while
	// we hold the runtime's fds (ptrace access mode checks, proc(5)).
	// execve of the program makes it dumpable again.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("init: prctl PR_SET_DUMPABLE: %w", err)
	}
	fd, err := strconv.Atoi(os.Getenv(initEnv))
	if err != nil {
		return fmt.Errorf("init: bad %s: %w", initEnv, err)
	}
	os.Unsetenv(initEnv)
	sock := os.NewFile(uintptr(fd), "sync")
	var cfg initConfig
	if err := recvMsg(sock, &cfg); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := recvMountSources(sock, &cfg); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	err = runInit(sock, &cfg)
	// Only failures get here: on success the last step was execve.
	if fifoWriter >= 0 {
		// `start` is reading the FIFO until EOF: it reports this.
		unix.Write(fifoWriter, []byte(err.Error()))
	} else {
		sendMsg(sock, &syncMsg{Type: msgError, Error: err.Error()})
	}
	return err
}

// fifoWriter is the exec FIFO's write end from the moment `start` opened
// the FIFO, or -1. It stays open, close-on-exec, until execve: `start`
// reads until EOF, so it returns only once the program runs (a signal
// sent after it reaches the program, not this Go process, whose runtime
// drops SIGUSR1 and others nobody asked for), and it reads here the
// error of a startContainer hook or of execve itself.
var fifoWriter = -1

func runInit(sock *os.File, cfg *initConfig) error {
	spec := cfg.Spec
	run := &step.Runner{Prefix: "init"}
	if cfg.Explain {
		run.Explain = os.Stderr
	}
	if cfg.Exec {
		return runExecInit(sock, cfg, run)
	}
	// Hooks in the runtime's namespaces (createRuntime), then ours
	// (createContainer), both before the root changes.
	// The init goes on with its mounts while the runtime places it in the
	// cgroup, unless what comes next needs the cgroup: a cgroup namespace
	// (its root is the cgroup we are in when it is made), a cgroup mount
	// (it shows the namespace's root) or hooks (they see the container).
	hooks := len(createRuntimeHooks(spec)) > 0
	placed := false
	var err error
	if cfg.NewCgroupNS || hooks || hasCgroupMount(spec) {
		if err := awaitPlaced(sock, run); err != nil {
			return err
		}
		placed = true
	}
	if hasCgroupMount(spec) {
		// The cgroup mount binds our own groups, as seen from here
		// (a new cgroup namespace shows each as "/").
		if cfg.cgroupView, err = rootfs.ReadCgroupView(); err != nil {
			return err
		}
	}
	if cfg.NewCgroupNS {
		if err := run.RunOne(unshareCgroupStep()); err != nil {
			return err
		}
	}
	if hooks {
		if err := sendMsg(sock, &syncMsg{Type: msgHooks}); err != nil {
			return err
		}
		if err := awaitMsg(sock, msgGo); err != nil {
			return err
		}
	}
	st := &State{ID: cfg.ID, Bundle: cfg.Bundle, Pid: os.Getpid(), Config: spec}
	if spec.Hooks != nil {
		if err := runHooks("createContainer", spec.Hooks.CreateContainer, ociState(st, specs.StateCreating)); err != nil {
			return err
		}
	}
	if !cfg.NoNewKeyring {
		if err := run.RunOne(process.SessionKeyringStep(cfg.ID)); err != nil {
			return err
		}
	}
	// The console is set up on the new root, before the rootfs's final
	// read-only changes (runc's order: /dev may be read-only).
	var console []step.Step
	var consoleSock *os.File
	if spec.Process.Terminal {
		if console, consoleSock, err = consoleSteps(cfg); err != nil {
			return err
		}
	}
	err = setupRootfs(cfg, run, console)
	if consoleSock != nil {
		consoleSock.Close()
	}
	if err != nil {
		return err
	}
	if !placed {
		if err := awaitPlaced(sock, run); err != nil {
			return err
		}
	}
	steps, err := processSteps(sock, cfg, st, run)
	if err != nil {
		return err
	}
	return run.Run(steps...)
}

// runExecInit is the init of `exec`: the namespaces already hold the
// container's root, so only the terminal and the process are set up.
func runExecInit(sock *os.File, cfg *initConfig, run *step.Runner) error {
	if cfg.Spec.Process.Terminal {
		if err := setupConsole(cfg, run); err != nil {
			return err
		}
	}
	if err := awaitPlaced(sock, run); err != nil {
		return err
	}
	if !cfg.NoNewKeyring {
		// Joins the container's keyring by name (runc does the same).
		if err := run.RunOne(process.SessionKeyringStep(cfg.ID)); err != nil {
			return err
		}
	}
	steps, err := processSteps(sock, cfg, &State{ID: cfg.ID}, run)
	if err != nil {
		return err
	}
	return run.Run(steps...)
}

func hasCgroupMount(spec *specs.Spec) bool {
	for _, m := range spec.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			return true
		}
	}
	return false
}

// unshareCgroupStep makes the container's cgroup namespace. Per thread
// (unshare(2) changes the caller's nsproxy): this locked thread mounts
// the cgroup file systems and execs the program.
func unshareCgroupStep() step.Step {
	return step.Step{
		Op:   "unshare",
		Args: "CLONE_NEWCGROUP",
		Why:  "a cgroup namespace rooted at the container's cgroup, made now that we are in it",
		Do:   func() error { return unix.Unshare(unix.CLONE_NEWCGROUP) },
	}
}

// awaitPlaced waits until the runtime has put this process in the
// container's cgroup: nothing the container runs may escape its limits.
func awaitPlaced(sock *os.File, run *step.Runner) error {
	return run.RunOne(step.Step{
		Op: "read", Args: `sync socket, "placed"`,
		Why: "wait until the runtime has put us in the container's cgroup",
		Do:  func() error { return awaitMsg(sock, msgPlaced) },
	})
}

func setupRootfs(cfg *initConfig, run *step.Runner, console []step.Step) error {
	rc, err := rootfs.FromSpec(cfg.Spec, cfg.Bundle)
	if err != nil {
		return err
	}
	rc.NoPivot = cfg.NoPivot
	rc.BeforeFinal = console
	rc.MountSources = cfg.mountFds
	rc.CgroupView = cfg.cgroupView
	defer func() {
		for _, f := range cfg.mountFds {
			f.Close()
		}
	}()
	sysctl := cfg.Spec.Linux.Sysctl
	if err := process.ValidateSysctls(sysctl, cfg.Spec.Linux.Namespaces); err != nil {
		return err
	}
	// Written with the mounts: readonlyPaths may make /proc/sys read-only.
	ws, _ := procfs.Sysctls(sysctl) // validated above
	for _, w := range ws {
		rc.ProcWrites = append(rc.ProcWrites, rootfs.ProcWrite{Path: w.Path, Value: w.Value, Why: "sysctl " + w.Name})
	}
	steps, err := rootfs.Steps(rc)
	if err != nil {
		return err
	}
	return run.Run(steps...)
}

// processSteps is the last stage in runc's order (see package process):
// the bounding set is dropped before the user change, the other sets
// after it; seccomp is loaded last, after no_new_privs, so the profile
// constrains as little of our own setup as possible.
func processSteps(sock *os.File, cfg *initConfig, st *State, run *step.Runner) ([]step.Step, error) {
	spec := cfg.Spec
	cs, err := caps.FromSpec(spec.Process.Capabilities)
	if err != nil {
		return nil, err
	}
	var filter []step.Step
	if cfg.Seccomp != nil {
		filter = append(filter, seccomp.LoadStep(cfg.Seccomp, func(l *os.File) error { return sendListener(sock, l) }))
	} else if spec.Linux.Seccomp != nil {
		// Never run unfiltered because the runtime forgot to send it.
		return nil, errors.New("linux.seccomp is set but the runtime sent no compiled filter")
	}
	attrs, err := process.AttrSteps(spec.Linux.Personality, spec.Process.IOPriority)
	if err != nil {
		return nil, err
	}
	proc := withCallerNofile(spec.Process, cfg.CallerNofile)
	if !cfg.Exec && proc.User.Umask == nil {
		// runc's default for the container's process (finalizeRootfs);
		// not the caller's, nor ours.
		umask := uint32(0o022)
		q := *proc
		q.User.Umask = &umask
		proc = &q
	}
	pc := process.Config{
		Process:    *proc,
		Namespaces: spec.Linux.Namespaces,
		ChownStdio: true,
		BeforeUser: append(attrs, cs.BoundingSteps()...),
		AfterUser:  append([]step.Step{rearmPdeathsigStep(sock)}, cs.ApplySteps()...),
	}
	if !cfg.Exec {
		// The container's, set once by its init; exec joins them.
		// Its sysctls were written with the mounts (setupRootfs).
		pc.Hostname, pc.Domainname = spec.Hostname, spec.Domainname
	}
	for i := 0; i < cfg.PreserveFds; i++ {
		pc.KeepFDs = append(pc.KeepFDs, 3+i)
	}
	ready := readyStep(sock, cfg)
	wait := []step.Step{ready}
	if !cfg.Exec {
		wait = append(wait, waitStartStep(cfg.FifoFd))
		if spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0 {
			wait = append(wait, hooksStep("startContainer", spec.Hooks.StartContainer, st))
		}
	}
	lsm := process.LSMSteps(spec.Process)
	if spec.Process.NoNewPrivileges {
		pc.Last = append(append(lsm, filter...), wait...)
	} else {
		// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN:
		// load it while we still hold it, before the user change.
		pc.BeforeUser = append(filter, pc.BeforeUser...)
		pc.Last = append(lsm, wait...)
	}
	pc.Last = append(pc.Last, defaultSignalsStep())
	steps, _, err := process.Steps(pc)
	return steps, err
}

// rearmPdeathsigStep sets PR_SET_PDEATHSIG again after the user change,
// which cleared it (commit_creds), as runc does: until ready the init dies
// with its runtime. Then it checks the runtime is still there (its end of
// the sync socket is open), as it may have died before the signal was set.
func rearmPdeathsigStep(sock *os.File) step.Step {
	return step.Step{
		Op:   "prctl",
		Args: "PR_SET_PDEATHSIG, SIGKILL",
		Why:  "the user change cleared it: die with the runtime until ready",
		Do: func() error {
			if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
				return fmt.Errorf("prctl PR_SET_PDEATHSIG: %w", err)
			}
			rc, err := sock.SyscallConn()
			if err != nil {
				return err
			}
			gone := false
			rc.Control(func(fd uintptr) {
				pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
				n, err := unix.Poll(pfd, 0)
				gone = err == nil && n > 0 && pfd[0].Revents&(unix.POLLRDHUP|unix.POLLHUP) != 0
			})
			if gone {
				os.Exit(1) // the runtime is gone: no one to tell
			}
			return nil
		},
	}
}

// readyStep tells the runtime the container is set up: `create` may
// record it as created and exit. For `exec` the socket stays open,
// close-on-exec (cloexecStep): the runtime waits for its EOF, which comes
// when execve succeeds, or for the error if it fails.
func readyStep(sock *os.File, cfg *initConfig) step.Step {
	return step.Step{
		Op: "write", Args: `sync socket, "ready"`,
		Why: "tell the runtime the container is set up",
		Do: func() error {
			// The runtime armed PR_SET_PDEATHSIG so a half-made init
			// dies with it; from here the container outlives it.
			if err := unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0); err != nil {
				return fmt.Errorf("prctl PR_SET_PDEATHSIG 0: %w", err)
			}
			err := sendMsg(sock, &syncMsg{Type: msgReady})
			if !cfg.Exec {
				sock.Close()
			}
			return err
		},
	}
}

// waitStartStep blocks until `start`: open(2) of a FIFO for writing
// returns only once a reader opened it. The FIFO is reached through its
// O_PATH fd in /proc/self/fd: its host path is outside our root now.
// The write end stays open (fifoWriter) until execve closes it.
func waitStartStep(fifoFd int) step.Step {
	path := "/proc/self/fd/" + strconv.Itoa(fifoFd)
	return step.Step{
		Op:   "open",
		Args: path + ", O_WRONLY|O_CLOEXEC",
		Why:  "wait for `ctr-lite start` to open the exec FIFO; execve closes it, which tells start the program runs",
		Do: func() error {
			fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open exec fifo: %w", err)
			}
			fifoWriter = fd
			if _, err := unix.Write(fd, []byte("0")); err != nil {
				return fmt.Errorf("write exec fifo: %w", err)
			}
			unix.Close(fifoFd)
			return nil
		},
	}
}

func hooksStep(kind string, hooks []specs.Hook, st *State) step.Step {
	return step.Step{
		Op: "execve", Args: hookArgs(kind, hooks),
		Why: "config.md: in the container's namespaces, after start, before the program",
		Do: func() error {
			return runHooks(kind, hooks, ociState(st, specs.StateCreated))
		},
	}
}
