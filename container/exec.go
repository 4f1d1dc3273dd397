package container

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/process"
)

// ExecOpts are `exec`'s flags (runc's names).
type ExecOpts struct {
	ID string
	// Process replaces the container's process settings entirely
	// (--process FILE); otherwise the container's process is the base
	// and Args and the other fields override it.
	Process *specs.Process
	Args    []string
	// Env is appended to the process's env; a name given again
	// replaces the earlier value (the init dedups, as runc's does).
	Env  []string
	Cwd  string
	User *specs.User
	// AdditionalGids are added to the user's (exec -g).
	AdditionalGids []uint32
	AddCaps        []string
	// Apparmor and ProcessLabel replace the process's LSM labels.
	Apparmor, ProcessLabel string
	// SubCgroups put the process in an existing sub-cgroup of the
	// container's (exec --cgroup): "PATH" for every hierarchy, or
	// "CONTROLLER[,CONTROLLER]:PATH" per v1 controller.
	SubCgroups []string
	// IgnorePaused execs into a paused container (the process stays
	// frozen with it until resume); without it that is an error.
	IgnorePaused  bool
	NoNewPrivs    bool
	Tty           bool
	Detach        bool
	PidFile       string
	ConsoleSocket string
	PreserveFds   int
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
}

// ReadProcessFile reads --process FILE: a specs.Process as JSON.
func ReadProcessFile(path string) (*specs.Process, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf("process file: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, errorf("process file %s: %w", path, jsonError(data, err))
	}
	return &p, nil
}

// execProcess is the process exec runs: --process, or the container's
// own with the flags applied (what runc does).
func execProcess(base *specs.Process, o ExecOpts) (*specs.Process, error) {
	var p specs.Process
	if o.Process != nil {
		p = *o.Process
	} else {
		p = *base
		p.Args = o.Args
		p.Env = append(append([]string(nil), base.Env...), o.Env...)
		p.Terminal = o.Tty
		if o.Cwd != "" {
			p.Cwd = o.Cwd
		}
		if o.User != nil {
			p.User = *o.User
		}
		if o.Apparmor != "" {
			p.ApparmorProfile = o.Apparmor
		}
		if o.ProcessLabel != "" {
			p.SelinuxLabel = o.ProcessLabel
		}
		p.User.AdditionalGids = append(append([]uint32(nil), p.User.AdditionalGids...), o.AdditionalGids...)
		if o.NoNewPrivs {
			p.NoNewPrivileges = true
		}
		if len(o.AddCaps) > 0 && p.Capabilities != nil {
			c := *p.Capabilities
			c.Bounding = append(append([]string(nil), c.Bounding...), o.AddCaps...)
			c.Effective = append(append([]string(nil), c.Effective...), o.AddCaps...)
			c.Permitted = append(append([]string(nil), c.Permitted...), o.AddCaps...)
			p.Capabilities = &c
		}
	}
	if len(p.Args) == 0 {
		return nil, errors.New("no command to execute (give ARGS or --process)")
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if err := process.Validate(process.Config{Process: p}); err != nil {
		return nil, err
	}
	if p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		if err := process.CheckLSM(&p); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// Exec runs a new process in a running container (runc exec): it joins
// every namespace of the container's init, enters its cgroup and gets
// the container's capabilities, seccomp filter and LSM label unless the
// process says otherwise. It returns the process's exit status, or 0
// at once with Detach.
//
// In the foreground the forwarded signals stay caught when it returns
// (see catchSignals): the caller is expected to exit.
func (r Root) Exec(o ExecOpts) (int, error) {
	var sigs *caught
	if !o.Detach {
		sigs = catchSignals() // in the background while we prepare
	}
	h, err := r.Open(o.ID)
	if err != nil {
		return 1, err
	}
	st := h.State
	status := st.Status(h.Dir, r.frozenFunc(&st))
	h.Close() // exec runs alongside other commands on this container
	switch {
	case status == statusPaused && !o.IgnorePaused:
		return 1, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	case status == statusPaused, status == specs.StateRunning, status == specs.StateCreated:
	case status == specs.StateStopped:
		return 1, errors.New("cannot exec in a stopped container")
	default:
		return 1, errorf("cannot exec in a container in state %q", status)
	}
	proc, err := execProcess(st.Config.Process, o)
	if err != nil {
		return 1, err
	}
	plan, err := execPlan(&st, proc, o)
	if err != nil {
		return 1, err
	}
	r.warnIgnoredCaps(plan)
	var console, ptyConn *os.File
	switch {
	case proc.Terminal && o.ConsoleSocket != "":
		if console, err = DialConsoleSocket(o.ConsoleSocket); err != nil {
			return 1, err
		}
		defer console.Close()
	case proc.Terminal && o.Detach:
		return 1, errors.New("cannot allocate a terminal for a detached process without --console-socket")
	case proc.Terminal:
		ours, theirs, err := consolePair()
		if err != nil {
			return 1, err
		}
		defer ours.Close()
		defer theirs.Close()
		console, ptyConn = theirs, ours
	case o.ConsoleSocket != "":
		return 1, errors.New("--console-socket given but the process has no terminal")
	}
	cg, err := st.cgroup()
	if err != nil {
		return 1, err
	}
	if len(o.SubCgroups) > 0 {
		if cg, err = subCgroup(&st, o.SubCgroups); err != nil {
			return 1, err
		}
	}
	run := r.runner("exec")
	cfg := initConfig{Plan: plan, Exec: true, Explain: r.Explain != nil}
	sp := spawn{cfg: &cfg, console: console,
		stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr}
	c := &Container{Root: r, State: st}
	// The process joins the container's cgroup itself, before anything
	// else runs (cgroups.Join).
	if err := run.Run(cg.OpenJoinStep(&sp.cgroup)); err != nil {
		return 1, err
	}
	defer sp.cgroup.Close()
	if sigs != nil {
		sigs.wait() // a signal from here on reaches the process
	}
	if err := sp.start(c, nil, run); err != nil {
		if c.Init != nil {
			c.Init.Signal(os.Kill)
			c.Init.Wait()
		}
		return 1, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, c.Init.Pid); err != nil {
			// As runc: a caller that cannot learn the pid cannot manage
			// the process, so it does not run on.
			c.Init.Signal(os.Kill)
			c.Init.Wait()
			return 1, err
		}
	}
	if o.Detach {
		return 0, nil
	}
	var tty *ttyProxy
	if ptyConn != nil {
		console.Close()
		if tty, err = startTtyProxy(ptyConn); err != nil {
			c.Init.Signal(os.Kill)
			c.Init.Wait()
			return 1, err
		}
		defer tty.restore()
	}
	return waitForeground(c, sigs.ch, tty), nil
}

// waitForeground forwards signals to the process until it exits and
// returns its exit status.
func waitForeground(c *Container, sigs chan os.Signal, tty *ttyProxy) int {
	done := make(chan *os.ProcessState, 1)
	go func() {
		ps, _ := c.Init.Wait()
		done <- ps
	}()
	for {
		select {
		case s := <-sigs:
			forwardSignal(c, s, tty)
		case ps := <-done:
			if tty != nil {
				tty.wait()
			}
			return ExitCode(ps)
		}
	}
}

// joinNamespaces lists every namespace of the container's init by its
// /proc/PID/ns file: exec joins them all, as runc does.
func joinNamespaces(st *State) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, n := range st.Config.Linux.Namespaces {
		k, err := namespaces.ParseKind(string(n.Type))
		if err != nil {
			continue
		}
		out = append(out, specs.LinuxNamespace{Type: n.Type, Path: k.ProcPath(st.Pid)})
	}
	return out
}

// awaitExecve waits until the init of an exec has run execve: its end of
// the sync socket is close-on-exec, so EOF means the program runs (as
// with runc, exec returns only then); a message means execve (or what
// came after "ready") failed.
func awaitExecve(sock *os.File) error {
	var m syncMsg
	err := recvMsg(sock, &m)
	switch {
	case errors.Is(err, errPeerClosed):
		return nil
	case err != nil:
		return err
	case m.Type == msgError:
		return errors.New(m.Error)
	default:
		return errorf("init sent %q after ready", m.Type)
	}
}

// subCgroup is the cgroup exec --cgroup names: a sub-cgroup of the
// container's that exists, in every hierarchy ("PATH", the only form
// on cgroup v2) or per v1 controller ("cpu,cpuacct:PATH"; the other
// hierarchies stay at the container's cgroup), as runc's exec takes it.
// A path may not lead out of the container's cgroup.
func subCgroup(st *State, args []string) (*cgroups.Manager, error) {
	dirs := maps.Clone(st.CgroupDirs)
	if len(dirs) == 0 {
		return nil, errors.New("--cgroup: the container's cgroup directories are not recorded")
	}
	sub := func(arg, base, rel string) (string, error) {
		d := filepath.Join(base, rel)
		if d == base || !strings.HasPrefix(d, base+"/") {
			return "", errorf("--cgroup %q: %q is not a sub-cgroup of the container's", arg, rel)
		}
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() {
			return "", errorf("--cgroup %q: sub-cgroup %s does not exist", arg, d)
		}
		return d, nil
	}
	changed := map[string]bool{}
	for _, a := range args {
		ctrls, rel, perCtrl := strings.Cut(a, ":")
		if !perCtrl {
			if len(args) != 1 {
				return nil, errorf("--cgroup %q: give CONTROLLER:PATH when --cgroup is given more than once", a)
			}
			for k, base := range st.CgroupDirs {
				d, err := sub(a, base, ctrls)
				if err != nil {
					return nil, err
				}
				dirs[k] = d
			}
			continue
		}
		if st.CgroupMode == cgroups.Unified {
			return nil, errorf("--cgroup %q: cgroup v2 has no per-controller paths: give PATH", a)
		}
		if strings.Contains(rel, ":") {
			return nil, errorf("--cgroup %q: want [CONTROLLER[,CONTROLLER]:]PATH", a)
		}
		for _, c := range strings.Split(ctrls, ",") {
			base, ok := st.CgroupDirs[c]
			if !ok || c == "" {
				return nil, errorf("--cgroup %q: unknown controller %q", a, c)
			}
			if changed[c] {
				return nil, errorf("--cgroup %q: controller %s given twice", a, c)
			}
			d, err := sub(a, base, rel)
			if err != nil {
				return nil, err
			}
			dirs[c], changed[c] = d, true
		}
	}
	return cgroups.Load(st.CgroupPath, st.CgroupMode, dirs)
}
