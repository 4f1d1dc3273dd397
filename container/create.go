package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/exeseal"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// CreateOpts are `create`'s flags (runc's names).
type CreateOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	// PreserveFds passes the caller's fds 3..3+N-1 to the container.
	PreserveFds int
	// SystemdCgroup reads linux.cgroupsPath as systemd's
	// "slice:prefix:name" (runc --systemd-cgroup); without systemd the
	// group is made where systemd would make it.
	SystemdCgroup bool
	// RootlessCgroups is runc's rootless cgroup manager (--rootless,
	// auto: not root, or root in a user namespace): a hierarchy where
	// the group may not be made is skipped, see cgroups.SetRootless.
	RootlessCgroups bool
	// Stdio of the container's process when it has no terminal: the
	// caller's, passed through unchanged (conmon's and shims' pipes).
	Stdin, Stdout, Stderr *os.File

	// consoleConn stands in for ConsoleSocket when run proxies the
	// terminal itself.
	consoleConn *os.File
	// bundle is config.json as run already loaded it (LoadBundle), so
	// that Create does not read and decode it again.
	bundle *loadedBundle
}

type loadedBundle struct {
	spec   *specs.Spec
	rootfs string
}

// Container is a created container and, for `run`, its init process.
type Container struct {
	Root   Root
	State  State
	Init   *namespaces.Process
	cgroup *cgroups.Manager
}

// Create sets up a container and leaves its process waiting for Start
// (runtime.md "create"): namespaces, cgroup, mounts, capabilities and
// seccomp are in place when Create returns. On failure nothing is left:
// no state directory, cgroup, mount or process.
func (r Root) Create(o CreateOpts) (c *Container, err error) {
	var spec *specs.Spec
	var rootfsPath string
	if b := o.bundle; b != nil {
		spec, rootfsPath = b.spec, b.rootfs
	} else if spec, rootfsPath, err = LoadBundle(o.Bundle); err != nil {
		return nil, err
	}
	// The default bundle is ".": mount sources and root.path are resolved
	// against it, and the rootfs package wants absolute paths.
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle %q: %w", o.Bundle, err)
	}
	o.Bundle = bundle
	plan, err := NewPlan(spec, o)
	if err != nil {
		return nil, err
	}
	r.warnIgnoredCaps(plan)
	cg := plan.Cgroup
	for _, w := range cgroups.Ignored(spec.Linux.Resources) {
		r.warnf("%s", w)
	}
	console := o.consoleConn
	if console == nil && o.ConsoleSocket != "" {
		if console, err = DialConsoleSocket(o.ConsoleSocket); err != nil {
			return nil, err
		}
		defer console.Close()
	}

	h, err := r.Reserve(o.ID)
	if err != nil {
		return nil, err
	}
	run := r.runner("create")
	c = &Container{Root: r, cgroup: cg}
	defer func() {
		if err != nil {
			c.abort(h)
		}
		h.Close()
	}()
	h.State = State{ID: o.ID, Bundle: bundle, Rootfs: rootfsPath, Config: spec,
		CgroupPath: cg.Path(), CgroupMode: cg.Mode(), CgroupDirs: cg.DirMap(),
		Created: time.Now().UTC(), NoNewKeyring: o.NoNewKeyring,
		Creating: true}
	// Saved before anything exists, and again once the init does: a
	// create killed at any point leaves a state that names everything
	// `delete --force` must kill and remove.
	if err := h.Save(); err != nil {
		return c, err
	}
	if err := run.RunOne(mkfifoStep(h.FifoPath())); err != nil {
		return c, err
	}
	if err := c.startInit(h, plan, o, console, run); err != nil {
		return c, err
	}
	h.State.Creating = false
	c.State = h.State
	if err := h.Save(); err != nil {
		return c, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, h.State.Pid); err != nil {
			return c, err
		}
	}
	return c, nil
}

// cgroupPath is linux.cgroupsPath, or runc's default: a cgroup named
// after the container under the runtime's own (a relative path), or with
// systemd paths system.slice:ctr-lite:ID.
func cgroupPath(spec *specs.Spec, id string, systemd bool) (string, error) {
	p := spec.Linux.CgroupsPath
	if !systemd {
		if p == "" {
			return id, nil
		}
		return p, nil
	}
	if p == "" {
		p = "system.slice:ctr-lite:" + id
	}
	sp, err := cgroups.SystemdPath(p)
	if err != nil {
		return "", fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	return sp, nil
}

func mkfifoStep(path string) step.Step {
	return step.Step{
		Op:   "mkfifo",
		Args: path + ", 0622",
		Why:  "the init blocks opening it for writing until `start` opens it for reading",
		Do: func() error {
			old := unix.Umask(0)
			defer unix.Umask(old)
			return unix.Mkfifo(path, 0o622)
		},
	}
}

// startInit starts the container's init (this binary, re-executed as
// "ctr-lite init") in the container's namespaces, puts it in the cgroup,
// sends it the config, runs the createRuntime hooks when it asks, and
// waits until it is ready and waiting on the exec FIFO.
func (c *Container) startInit(h *Handle, p *Plan, o CreateOpts, console *os.File, run *step.Runner) error {
	fifo, err := os.OpenFile(h.FifoPath(), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifo.Close()
	cfg := initConfig{Plan: p, Explain: c.Root.Explain != nil}
	srcIdx, srcPaths := bindSources(p)
	cfg.MountSources = srcIdx
	sp := spawn{cfg: &cfg, mountSources: srcPaths, fifo: fifo, console: console,
		stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr}
	// Make the group and set its limits first: the init joins it itself
	// as its first act (v1 "tasks", cgroup2 clone3 CLONE_INTO_CGROUP),
	// so nobody writes cgroup.procs for it (see cgroups.Join).
	if err := c.cgroup.Apply(run, -1); err != nil {
		return err
	}
	c.rootlessCgroup(h)
	if err := run.Run(c.cgroup.OpenJoinStep(&sp.cgroup)); err != nil {
		return err
	}
	defer sp.cgroup.Close()
	return sp.start(c, h, run)
}

// rootlessCgroup records the hierarchies a rootless create could make
// (cgroups.Manager.SetRootless) and warns of those it could not; true
// when it made none.
func (c *Container) rootlessCgroup(h *Handle) (none bool) {
	skipped := c.cgroup.Skipped()
	if len(skipped) == 0 {
		return false
	}
	h.State.CgroupDirs = c.cgroup.DirMap()
	h.State.CgroupNone = len(h.State.CgroupDirs) == 0
	c.Root.warnf("cgroup %s: not made in %s (rootless, no permission): the container runs without a cgroup of its own there, and no limits apply", c.cgroup.Path(), strings.Join(skipped, ", "))
	return len(h.State.CgroupDirs) == 0
}

// splitCgroupNS takes a new cgroup namespace out of the list the raw fork
// makes: the init unshares it itself once it is in the container's
// cgroup, so that the namespace's root is that cgroup (runc does the
// same), not the runtime's.
func splitCgroupNS(in []specs.LinuxNamespace) ([]specs.LinuxNamespace, bool) {
	var out []specs.LinuxNamespace
	found := false
	for _, n := range in {
		if n.Type == specs.CgroupNamespace && n.Path == "" {
			found = true
			continue
		}
		out = append(out, n)
	}
	return out, found
}

// spawn is one start of "ctr-lite init": for create, or for exec.
type spawn struct {
	cfg                   *initConfig
	fifo, console         *os.File
	stdin, stdout, stderr *os.File
	// cgroup: what the init joins its cgroup with, by itself.
	cgroup cgroups.Join
	// mountSources are the host paths of cfg.MountSources.
	mountSources []string
}

// start starts the init, which joins its cgroup (sp.cgroup) before
// anything else runs, sends it its config and waits until it is ready.
// c.Init is set as soon as the process exists, so a caller's cleanup can
// kill it.
func (sp *spawn) start(c *Container, h *Handle, run *step.Runner) error {
	plan := sp.cfg.Plan
	plan.Process.Process = *withCallerNofile(&plan.Process.Process, callerNofile())
	prog, err := rawInitProg(plan, sp.cfg.Exec, c.Root.Explain != nil, sp.stdio())
	var ng *raw.NeedsGo
	if err != nil && !errors.As(err, &ng) {
		return err
	}
	rawInitNote(run, err)
	if err == nil {
		return sp.startRaw(c, h, run, prog)
	}
	parentSock, childSock, err := socketPair()
	if err != nil {
		return err
	}
	defer parentSock.Close()
	defer childSock.Close()
	self, err := exeseal.SealedSelf(c.Root.Dir, run) // CVE-2019-5736: see package exeseal
	if err != nil {
		return err
	}
	defer self.Close()

	// fds 3..3+N-1 are the preserved ones (runc's --preserve-fds), then
	// the sync socket, the FIFO and the console socket, as the plan
	// numbered them (Plan.layoutFds).
	var extra []*os.File
	for i := 0; i < plan.PreserveFds; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved-"+strconv.Itoa(3+i)))
	}
	extra = append(extra, childSock)
	if sp.fifo != nil {
		extra = append(extra, sp.fifo)
	}
	if sp.console != nil {
		extra = append(extra, sp.console)
	}
	ns := initNamespaces(plan, self, [3]*os.File{sp.stdin, sp.stdout, sp.stderr}, extra)
	ns.CgroupFD, ns.CgroupTasks, ns.CgroupProcs = sp.cgroup.Dir, sp.cgroup.Tasks, sp.cgroup.Procs
	// The kernel sends the parent-death signal when the forking thread
	// exits, so this goroutine keeps the thread until then (Go ends a
	// thread only when a goroutine locked to it returns).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := namespaces.Start(ns, run)
	if err != nil {
		return err
	}
	c.Init = p
	start, _, err := processStart(p.Pid)
	if err != nil {
		return fmt.Errorf("init process %d: %w", p.Pid, err)
	}
	if h != nil {
		h.State.Pid, h.State.PidStart = p.Pid, start
		if err := h.Save(); err != nil {
			return err
		}
	}
	childSock.Close()
	// The init joined its cgroup before its first instruction (Start
	// returns once it exec'd): msgPlaced says so at once. It waits for
	// msgPlaced before it sets up the process, so the program it execs,
	// and everything that program forks, is counted and limited from its
	// first instruction.
	var srcs []*os.File
	if len(sp.mountSources) > 0 {
		if srcs, err = openMountSources(run, p.Pid, sp.mountSources); err != nil {
			return err
		}
		defer closeFiles(srcs)
	}
	if err := sendMsg(parentSock, sp.cfg); err != nil {
		return err
	}
	if err := sendMountSources(parentSock, srcs); err != nil {
		return initError(parentSock, err)
	}
	if sp.cgroup.Dir != nil || len(sp.cgroup.Tasks) > 0 {
		run.Note("init %d joined its cgroup itself before its first instruction: the runtime writes no cgroup.procs", p.Pid)
	}
	if err := sendMsg(parentSock, &syncMsg{Type: msgPlaced}); err != nil {
		return initError(parentSock, err)
	}
	return c.awaitInit(parentSock, h)
}

// initNamespaces is how the init is started: in the plan's namespaces,
// running self (the sealed binary) as "ctr-lite init" with its sync
// socket's fd in initEnv, stdio and extra (fds from 3) passed.
func initNamespaces(p *Plan, self *os.File, stdio [3]*os.File, extra []*os.File) *namespaces.Config {
	return &namespaces.Config{
		Namespaces:  p.Namespaces,
		UIDMappings: p.UIDMappings,
		GIDMappings: p.GIDMappings,
		ExecFile:    self,
		Path:        "/proc/self/exe",
		Args:        []string{"ctr-lite", "init"},
		// containermaxprocs=0: the Go runtime would otherwise open our
		// caller's cgroup CPU files at start, before the init turns
		// non-dumpable, where the container could reopen them to write.
		// GOMAXPROCS=1 and GOGC=off: the init lives milliseconds on one
		// locked thread and allocates little; more Ps only start idle
		// threads that spin and switch, and a collection only costs time.
		Env: []string{initEnv + "=" + strconv.Itoa(p.SyncFd), "GODEBUG=containermaxprocs=0",
			"GOMAXPROCS=1", "GOGC=off"},
		Stdin: stdio[0], Stdout: stdio[1], Stderr: stdio[2],
		ExtraFiles: extra,
		// The init dies with us until it is ready (it then clears the
		// signal): a killed create or exec leaves no half-made process.
		ParentDeathSignal: unix.SIGKILL,
	}
}

// initError prefers the init's own message to err: an init that failed
// before msgPlaced (a createContainer hook, a mount) sent its error and
// exited, so our write (EPIPE) or cgroup placement failed only because it
// was gone. Call it only once the init is dead: the read must not block.
func initError(sock *os.File, err error) error {
	var m syncMsg
	if recvMsg(sock, &m) == nil && m.Type == msgError {
		return errors.New(m.Error)
	}
	return err
}

// awaitInit reads the init's messages until it is ready.
func (c *Container) awaitInit(sock *os.File, h *Handle) error {
	for {
		var m syncMsg
		listener, err := recvSyncMsg(sock, &m)
		if err != nil {
			return fmt.Errorf("init process exited before it was ready: %w", err)
		}
		switch m.Type {
		case msgSeccomp:
			if err := c.passListener(h, listener); err != nil {
				sendMsg(sock, &syncMsg{Type: msgError, Error: err.Error()})
				return err
			}
			if err := sendMsg(sock, &syncMsg{Type: msgSeccompDone}); err != nil {
				return err
			}
		case msgReady:
			if h == nil {
				return awaitExecve(sock)
			}
			return nil
		case msgError:
			return errors.New(m.Error)
		case msgHooks:
			if h == nil {
				return errors.New("init asked for hooks during exec")
			}
			st := ociState(&h.State, specs.StateCreating)
			if err := runHooks("createRuntime", createRuntimeHooks(h.State.Config), st); err != nil {
				sendMsg(sock, &syncMsg{Type: msgError, Error: err.Error()})
				return err
			}
			if err := sendMsg(sock, &syncMsg{Type: msgGo}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("init sent unknown message %q", m.Type)
		}
	}
}

// createRuntimeHooks are the prestart hooks (deprecated, run first as
// runc does) and the createRuntime hooks.
func createRuntimeHooks(s *specs.Spec) []specs.Hook {
	if s.Hooks == nil {
		return nil
	}
	return append(append([]specs.Hook(nil), s.Hooks.Prestart...), s.Hooks.CreateRuntime...) //nolint:staticcheck // prestart is deprecated but still honoured
}

// abort undoes a failed create: kill the init, remove its cgroup and the
// state directory.
func (c *Container) abort(h *Handle) {
	if c.Init != nil {
		c.Init.Signal(unix.SIGKILL)
		c.Init.Wait()
	}
	// Only a cgroup this create made is killed and removed: one that
	// existed before (another runtime's container of the same path, a
	// group someone made by hand) made CreateStep fail and is not ours.
	if c.cgroup != nil && c.cgroup.Made() {
		c.cgroup.Cleanup()
		if c.cgroup.Exists() {
			(&step.Runner{}).Run(c.cgroup.DeleteSteps(true)...)
		}
	}
	h.Remove()
}

// writePidFile writes the init's pid atomically (a reader never sees a
// partial number), as runc does.
func writePidFile(path string, pid int) error {
	if err := writeFileAtomic(path, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}
