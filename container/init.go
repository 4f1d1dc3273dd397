package container

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/process"
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
	run := &step.Runner{Prefix: "init"}
	if cfg.Explain {
		run.Explain = os.Stderr
	}
	x := &initIO{sock: sock, mountFds: cfg.mountFds}
	err := runSetup(run, cfg.Plan, cfg.Exec, x)
	// Nothing after the root filesystem uses these.
	for _, f := range cfg.mountFds {
		f.Close()
	}
	if x.console != nil {
		x.console.Close()
	}
	if err != nil {
		return err
	}
	// Built only now: the user and the program are looked up in the
	// container's root.
	proc, err := initProcessSteps(cfg.Plan, cfg.Exec, sock)
	if err != nil {
		return err
	}
	return run.Run(proc...)
}

// runSetup runs initSteps, then initRootfsSteps, built once the first
// ran (they read where our cgroups are).
func runSetup(run *step.Runner, p *Plan, exec bool, x *initIO) error {
	steps, err := initSteps(p, exec, x)
	if err == nil {
		err = run.Run(steps...)
	}
	if err == nil && !exec {
		if steps, err = initRootfsSteps(p, x); err == nil {
			err = run.Run(steps...)
		}
	}
	var be *bareError
	if errors.As(err, &be) {
		return be.err
	}
	return err
}

// bareError is an error of a step the init reports as it is, without
// the step's op and arguments: a createContainer hook's error names the
// hook (runc's message).
type bareError struct{ err error }

func (e *bareError) Error() string { return e.err.Error() }

// initIO is what the init's steps use beside the plan: the sync socket,
// the bind mount sources the runtime opened, the console socket (opened
// by the first console step) and where our cgroups are (read by a step
// before the cgroup namespace is made).
type initIO struct {
	sock       *os.File
	mountFds   map[int]*os.File
	console    *os.File
	cgroupView *rootfs.CgroupView
}

// initSteps are the init's first steps for p, in order: the container's
// setup up to the root filesystem (initRootfsSteps), then the process
// (initProcessSteps). Building them changes nothing: create --dry-run
// prints them. After the root filesystem the init closes the files the
// steps used (initIO's mount sources and console socket).
//
// Create: hooks in the runtime's namespaces (createRuntime), then ours
// (createContainer), both before the root changes. The init goes on with
// its mounts while the runtime places it in the cgroup, unless what comes
// next needs the cgroup (placedFirst). Exec: the namespaces already hold
// the container's root, so only the terminal is set up before the
// process.
func initSteps(p *Plan, exec bool, x *initIO) (setup []step.Step, err error) {
	if exec {
		if p.Terminal {
			if setup, err = consoleSteps(p, exec, x); err != nil {
				return nil, err
			}
		}
		setup = append(setup, awaitPlacedStep(x.sock))
		if !p.NoNewKeyring {
			// Joins the container's keyring by name (runc does the same).
			setup = append(setup, process.SessionKeyringStep(p.ID))
		}
		return setup, nil
	}
	if p.placedFirst() {
		setup = append(setup, awaitPlacedStep(x.sock))
	}
	if p.hasCgroupMount() {
		setup = append(setup, cgroupViewStep(x))
	}
	if p.NewCgroupNS {
		setup = append(setup, unshareCgroupStep())
	}
	if p.RuntimeHooks {
		setup = append(setup, sendSyncStep(x.sock, msgHooks, "ask the runtime to run the createRuntime hooks, in its namespaces"),
			awaitSyncStep(x.sock, msgGo, "the createRuntime hooks ran"))
	}
	if len(p.CreateContainer) > 0 {
		hs := hooksStep("createContainer", p.CreateContainer, hookState(p), specs.StateCreating,
			"config.md: in the container's namespaces, before the root changes")
		do := hs.Do
		hs.Do = func() error {
			if err := do(); err != nil {
				return &bareError{err} // it names the hook already
			}
			return nil
		}
		setup = append(setup, hs)
	}
	if !p.NoNewKeyring {
		setup = append(setup, process.SessionKeyringStep(p.ID))
	}
	return setup, nil
}

// initRootfsSteps make the container's root filesystem (create only).
// The console is set up on the new root, before the rootfs's final
// read-only changes (runc's order: /dev may be read-only).
func initRootfsSteps(p *Plan, x *initIO) ([]step.Step, error) {
	var console []step.Step
	if p.Terminal {
		var err error
		if console, err = consoleSteps(p, false, x); err != nil {
			return nil, err
		}
	}
	rc := *p.Rootfs
	rc.BeforeFinal = console
	rc.MountSources = x.mountFds
	rc.CgroupView = x.cgroupView
	// NewPlan validated rc (rootfs.Config.Validate) in the runtime.
	return rootfs.ValidatedSteps(rc)
}

// cgroupViewStep reads where our cgroups are, in the container's cgroup
// and before its cgroup namespace hides the host's paths: the cgroup
// mount binds our own groups from the host's mounts.
func cgroupViewStep(x *initIO) step.Step {
	return step.Step{
		Op:   "read",
		Args: "/proc/thread-self/mountinfo, /proc/self/cgroup",
		Why:  "where our cgroups are, before a cgroup namespace shows each as \"/\": the cgroup mount binds them",
		Do: func() (err error) {
			x.cgroupView, err = rootfs.ReadCgroupView()
			return err
		},
	}
}

// placedFirst: the init waits to be in the container's cgroup before it
// sets up anything, because what comes first needs the cgroup: a cgroup
// namespace (its root is the cgroup we are in when it is made), a cgroup
// mount (it shows the namespace's root) or hooks (they and what they
// fork must be in the container's cgroup). Otherwise it mounts while the
// runtime places it, and waits before the process.
func (p *Plan) placedFirst() bool {
	return p.NewCgroupNS || p.RuntimeHooks || len(p.CreateContainer) > 0 || p.hasCgroupMount()
}

// hookState is the state the init's hooks get: only the annotations of
// the config are in it.
func hookState(p *Plan) *State {
	return &State{ID: p.ID, Bundle: p.Bundle, Pid: os.Getpid(), Config: &specs.Spec{Annotations: p.Annotations}}
}

// initProcessSteps are the init's last steps: the process, ending with
// execve. With a nil sock they are only described (create --dry-run).
func initProcessSteps(p *Plan, exec bool, sock *os.File) ([]step.Step, error) {
	var steps []step.Step
	if !exec && !p.placedFirst() {
		steps = append(steps, awaitPlacedStep(sock))
	}
	ps, err := processSteps(p, exec, sock)
	return append(steps, ps...), err
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

// awaitPlacedStep waits for the runtime's go-ahead. The raw-forked child
// joined the container's cgroup before its first instruction (tasks
// files, or clone3 CLONE_INTO_CGROUP); the runtime says "placed" once it
// has recorded our pid and sent the mount sources.
func awaitPlacedStep(sock *os.File) step.Step {
	return awaitSyncStep(sock, msgPlaced, "the runtime's go-ahead: our pid is recorded (we joined our cgroup before our first instruction)")
}

// awaitSyncStep reads the runtime's next message, which must be want.
func awaitSyncStep(sock *os.File, want, why string) step.Step {
	return step.Step{
		Op:   "read",
		Args: `sync socket, "` + want + `"`,
		Why:  why,
		Do:   func() error { return awaitMsg(sock, want) },
	}
}

// sendSyncStep sends the runtime a message of type typ.
func sendSyncStep(sock *os.File, typ, why string) step.Step {
	return step.Step{
		Op:   "write",
		Args: `sync socket, "` + typ + `"`,
		Why:  why,
		Do:   func() error { return sendMsg(sock, &syncMsg{Type: typ}) },
	}
}

// processSteps is the last stage in runc's order (see package process):
// the bounding set is dropped before the user change, the other sets
// after it; seccomp is loaded last, after no_new_privs, so the profile
// constrains as little of our own setup as possible.
func processSteps(p *Plan, exec bool, sock *os.File) ([]step.Step, error) {
	var filter []step.Step
	if p.Seccomp != nil {
		filter = append(filter, seccomp.LoadStep(p.Seccomp, func(l *os.File) error { return sendListener(sock, l) }))
	}
	attrs, err := process.AttrSteps(p.Personality, p.Process.Process.IOPriority)
	if err != nil {
		return nil, err
	}
	pc := p.Process
	pc.BeforeUser = append(attrs, p.Caps.BoundingSteps()...)
	pc.AfterUser = append([]step.Step{rearmPdeathsigStep(sock)}, p.Caps.ApplySteps()...)
	for i := 0; i < p.PreserveFds; i++ {
		pc.KeepFDs = append(pc.KeepFDs, 3+i)
	}
	wait := []step.Step{readyStep(sock, exec)}
	if !exec {
		wait = append(wait, waitStartStep(p.FifoFd))
		if len(p.StartContainer) > 0 {
			wait = append(wait, hooksStep("startContainer", p.StartContainer, hookState(p), specs.StateCreated,
				"config.md: in the container's namespaces, after start, before the program"))
		}
	}
	lsm := process.LSMSteps(&pc.Process)
	if pc.Process.NoNewPrivileges {
		pc.Last = append(append(lsm, filter...), wait...)
	} else {
		// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN:
		// load it while we still hold it, before the user change.
		pc.BeforeUser = append(filter, pc.BeforeUser...)
		pc.Last = append(lsm, wait...)
	}
	pc.Last = append(pc.Last, process.DefaultSignalsStep())
	if sock == nil {
		// Not run (create --dry-run): the user and the program as the
		// config names them; the init resolves them in the new root.
		return process.StepsFor(pc, plannedResolve(pc.Process)), nil
	}
	// NewPlan (or execPlan) validated pc in the runtime: only the
	// container's files are read here (its /etc/passwd, the PATH).
	steps, _, err := process.ValidatedSteps(pc)
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
func readyStep(sock *os.File, exec bool) step.Step {
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
			if !exec {
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

func hooksStep(kind string, hooks []specs.Hook, st *State, status specs.ContainerState, why string) step.Step {
	return step.Step{
		Op: "execve", Args: hookArgs(kind, hooks),
		Why: why,
		Do: func() error {
			return runHooks(kind, hooks, ociState(st, status))
		},
	}
}
