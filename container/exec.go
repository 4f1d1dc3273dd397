package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/step"
)

// ExecOpts are `exec`'s flags (runc's names).
type ExecOpts struct {
	ID string
	// Process replaces the container's process settings entirely
	// (--process FILE); otherwise the container's process is the base
	// and Args and the other fields override it.
	Process       *specs.Process
	Args          []string
	Env           []string
	Cwd           string
	User          *specs.User
	AddCaps       []string
	NoNewPrivs    bool
	Tty           bool
	Detach        bool
	PidFile       string
	ConsoleSocket string
	PreserveFds   int
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	Explain       io.Writer
}

// ReadProcessFile reads --process FILE: a specs.Process as JSON.
func ReadProcessFile(path string) (*specs.Process, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("process file: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("process file %s: %w", path, jsonError(data, err))
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
	return &p, nil
}

// Exec runs a new process in a running container (runc exec): it joins
// every namespace of the container's init, enters its cgroup and gets
// the container's capabilities, seccomp filter and LSM label unless the
// process says otherwise. It returns the process's exit status, or 0
// at once with Detach.
func (r Root) Exec(o ExecOpts) (int, error) {
	h, err := r.Open(o.ID)
	if err != nil {
		return 1, err
	}
	st := h.State
	status := st.Status(h.Dir, r.frozenFunc(&st))
	h.Close() // exec runs alongside other commands on this container
	if status != specs.StateRunning && status != specs.StateCreated {
		return 1, fmt.Errorf("cannot exec in a container in state %q", status)
	}
	proc, err := execProcess(st.Config.Process, o)
	if err != nil {
		return 1, err
	}
	spec := *st.Config
	spec.Process = proc
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
	filter, err := compileSeccomp(spec.Linux.Seccomp)
	if err != nil {
		return 1, err
	}
	run := &step.Runner{Explain: o.Explain, Prefix: "exec"}
	cfg := initConfig{ID: o.ID, Bundle: st.Bundle, Rootfs: st.Rootfs, Spec: &spec, Exec: true, Seccomp: filter, NoNewKeyring: st.NoNewKeyring,
		PreserveFds: o.PreserveFds, Explain: o.Explain != nil, CallerNofile: callerNofile()}
	sp := spawn{cfg: &cfg, namespaces: joinNamespaces(&st), console: console,
		stdin: o.Stdin, stdout: o.Stdout, stderr: o.Stderr}
	c := &Container{Root: r, State: st}
	place := func(run *step.Runner, pid int) error { return run.Run(cg.AddStep(pid)) }
	if cg.Mode() == cgroups.Unified {
		// Born in the container's cgroup: clone3 CLONE_INTO_CGROUP.
		if err := run.Run(cg.OpenStep(&sp.cgroupFD)); err != nil {
			return 1, err
		}
		defer sp.cgroupFD.Close()
	}
	sigs := make(chan os.Signal, 32)
	if !o.Detach {
		signal.Notify(sigs, forwardedSignals...)
		defer signal.Stop(sigs)
	}
	if err := sp.start(c, nil, run, place); err != nil {
		if c.Init != nil {
			c.Init.Signal(os.Kill)
			c.Init.Wait()
		}
		return 1, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, c.Init.Pid); err != nil {
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
	return waitForeground(c, sigs, tty), nil
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
			return exitCode(ps)
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
		return fmt.Errorf("init sent %q after ready", m.Type)
	}
}
