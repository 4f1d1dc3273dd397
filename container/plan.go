package container

import (
	"errors"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/caps"
	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/rootfs"
	"github.com/ctr-lite/ctr-lite/seccomp"
)

// Plan is one container compiled from its config.json, once, in the
// runtime: every part resolved to the values the kernel steps take, and
// validated. NewPlan builds it for create, execPlan for exec. The runtime
// keeps the parts tagged `json:"-"`; the rest is what the init receives
// (initConfig.Plan) and turns into steps without reading the spec or
// validating again.
type Plan struct {
	ID     string `json:"id"`
	Bundle string `json:"bundle"`

	// Runtime side.

	// Spec is the config as read, kept in state.json for the later
	// commands and the runtime's hooks.
	Spec *specs.Spec `json:"-"`
	// Namespaces are the ones the raw fork makes or joins
	// (config-linux.md "Namespaces"); a new cgroup namespace is not among
	// them (NewCgroupNS).
	Namespaces               []specs.LinuxNamespace `json:"-"`
	UIDMappings, GIDMappings []specs.LinuxIDMapping `json:"-"`
	// Cgroup is linux.cgroupsPath (or runc's default) with
	// linux.resources and the default device rules, validated; nothing
	// is made until its steps run.
	Cgroup *cgroups.Manager `json:"-"`
	// CreateRuntime are the prestart and createRuntime hooks, which the
	// runtime runs when the init asks (msgHooks).
	CreateRuntime []specs.Hook `json:"-"`

	// Init side.

	// NewCgroupNS: the init makes the cgroup namespace itself once it is
	// in the container's cgroup, so that its root is that cgroup.
	NewCgroupNS bool `json:"new_cgroup_ns,omitempty"`
	// RuntimeHooks: the init asks the runtime to run CreateRuntime.
	RuntimeHooks bool `json:"runtime_hooks,omitempty"`
	// CreateContainer and StartContainer hooks run in the init (config.md
	// "POSIX-platform Hooks"), with Annotations in the state they get.
	CreateContainer []specs.Hook      `json:"create_container,omitempty"`
	StartContainer  []specs.Hook      `json:"start_container,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	// NoNewKeyring keeps the caller's session keyring (--no-new-keyring).
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`
	// Rootfs is the root filesystem, sysctls as its ProcWrites; nil for
	// exec, which joins the container's.
	Rootfs *rootfs.Config `json:"rootfs,omitempty"`
	// Process is the program and its attributes; its Process.Capabilities
	// is nil: the capabilities are Caps.
	Process process.Config `json:"process"`
	// Caps are process.capabilities (nil: left as they are).
	Caps *caps.Set `json:"caps,omitempty"`
	// Seccomp is linux.seccomp compiled for this machine.
	Seccomp *seccomp.Filter `json:"seccomp,omitempty"`
	// Personality is linux.personality, checked.
	Personality *specs.LinuxPersonality `json:"personality,omitempty"`
	// Terminal: the init makes a pty and sends its master to the console
	// socket (config.md "process.terminal").
	Terminal bool `json:"terminal,omitempty"`

	// The init's fds: 3..3+PreserveFds-1 are the caller's, then the sync
	// socket, the exec FIFO and the console socket (-1: none).
	PreserveFds int `json:"preserve_fds,omitempty"`
	// InitPid is the container's init an exec joins (0 for create): a
	// raw exec reads the user from /proc/InitPid/root/etc/passwd.
	InitPid int `json:"-"`
	// dryRun: the plan is shown, not run (create --dry-run): its
	// cgroups are not made.
	dryRun    bool
	SyncFd    int `json:"sync_fd"`
	FifoFd    int `json:"fifo_fd"`
	ConsoleFd int `json:"console_fd"`
}

// NewPlan compiles spec for `create` with its flags: the one validator,
// run before any change to the system, so bad input leaves nothing
// behind. o.Bundle must be absolute; spec is what LoadBundle returned.
func NewPlan(spec *specs.Spec, o CreateOpts) (*Plan, error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, err
	}
	if o.PreserveFds < 0 {
		return nil, errorf("--preserve-fds %d: must not be negative", o.PreserveFds)
	}
	if err := validateLater(spec); err != nil {
		return nil, err
	}
	rc, err := rootfs.FromSpec(spec, o.Bundle)
	if err != nil {
		return nil, err
	}
	rc.NoPivot = o.NoPivot
	if err := rc.Validate(); err != nil {
		return nil, err
	}
	// Written with the mounts: readonlyPaths may make /proc/sys
	// read-only (validateLater checked them, process.ValidateSysctls).
	ws, err := procfs.Sysctls(spec.Linux.Sysctl)
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		rc.ProcWrites = append(rc.ProcWrites, rootfs.ProcWrite{Path: w.Path, Value: w.Value, Why: "sysctl " + w.Name})
	}
	cs, err := caps.FromSpec(spec.Process.Capabilities)
	if err != nil {
		return nil, err
	}
	filter, err := compileSeccomp(spec.Linux.Seccomp)
	if err != nil {
		return nil, err
	}
	if err := checkUnsupported(spec); err != nil {
		return nil, err
	}
	if spec.Linux.IntelRdt != nil {
		return nil, errors.New("linux.intelRdt is not supported")
	}
	if p := spec.Process; p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		if err := process.CheckLSM(p); err != nil {
			return nil, err
		}
	}
	cgPath, err := cgroupPath(spec, o.ID, o.SystemdCgroup)
	if err != nil {
		return nil, err
	}
	res, err := containerResources(spec)
	if err != nil {
		return nil, err
	}
	cg, err := cgroups.New(cgPath, res)
	if err != nil {
		return nil, err
	}
	if o.RootlessCgroups {
		// runc's rootless cgroup manager: no group where it may not
		// make one.
		cg.SetRootless(spec.Linux.CgroupsPath != "")
	}
	terminal := spec.Process.Terminal
	switch {
	case o.consoleConn != nil && !terminal:
		return nil, errors.New("internal: console connection without process.terminal")
	case o.consoleConn == nil && o.ConsoleSocket != "" && !terminal:
		return nil, errors.New("--console-socket given but process.terminal is false")
	case o.consoleConn == nil && o.ConsoleSocket == "" && terminal:
		return nil, errors.New("process.terminal is true but no --console-socket was given")
	}

	nss, newCgroupNS := splitCgroupNS(spec.Linux.Namespaces)
	p := &Plan{ID: o.ID, Bundle: o.Bundle, Spec: spec,
		Namespaces: nss, UIDMappings: spec.Linux.UIDMappings, GIDMappings: spec.Linux.GIDMappings,
		Cgroup: cg, CreateRuntime: createRuntimeHooks(spec),
		NewCgroupNS: newCgroupNS, NoNewKeyring: o.NoNewKeyring,
		Rootfs: &rc, Caps: cs, Seccomp: filter, Personality: spec.Linux.Personality,
		Terminal: terminal, PreserveFds: o.PreserveFds, Annotations: spec.Annotations}
	p.RuntimeHooks = len(p.CreateRuntime) > 0
	if h := spec.Hooks; h != nil {
		p.CreateContainer, p.StartContainer = h.CreateContainer, h.StartContainer
	}
	if len(p.CreateContainer) == 0 && len(p.StartContainer) == 0 {
		p.Annotations = nil // only hooks the init runs read them
	}
	proc := *spec.Process
	proc.Capabilities = nil
	if proc.User.Umask == nil {
		// runc's default for the container's process (finalizeRootfs);
		// not the caller's, nor ours.
		umask := uint32(0o022)
		proc.User.Umask = &umask
	}
	// The container's hostname and domainname are set once, by its init;
	// exec joins them. Its sysctls are Rootfs.ProcWrites.
	p.Process = process.Config{Process: proc, Namespaces: spec.Linux.Namespaces, ChownStdio: true,
		Hostname: spec.Hostname, Domainname: spec.Domainname}
	p.layoutFds(true, terminal)
	return p, nil
}

// execPlan compiles the process of `exec` (proc, checked by execProcess)
// against the container it joins: its capabilities, seccomp filter and
// personality, no root filesystem, hooks or hostname.
func execPlan(st *State, proc *specs.Process, o ExecOpts) (*Plan, error) {
	if o.PreserveFds < 0 {
		return nil, errorf("--preserve-fds %d: must not be negative", o.PreserveFds)
	}
	cs, err := caps.FromSpec(proc.Capabilities)
	if err != nil {
		return nil, err
	}
	linux := st.Config.Linux
	filter, err := compileSeccomp(linux.Seccomp)
	if err != nil {
		return nil, err
	}
	if _, err := process.AttrSteps(linux.Personality, proc.IOPriority); err != nil {
		return nil, err
	}
	q := *proc
	q.Capabilities = nil
	p := &Plan{ID: st.ID, Bundle: st.Bundle, Spec: st.Config,
		Namespaces: joinNamespaces(st), NoNewKeyring: st.NoNewKeyring,
		Caps: cs, Seccomp: filter, Personality: linux.Personality, Terminal: proc.Terminal,
		PreserveFds: o.PreserveFds, InitPid: st.Pid,
		Process: process.Config{Process: q, Namespaces: linux.Namespaces, ChownStdio: true}}
	p.layoutFds(false, proc.Terminal)
	return p, nil
}

// layoutFds numbers the fds the init is given (spawn.start passes them
// in this order): the preserved ones from 3, the sync socket, the exec
// FIFO (create), the console socket (a terminal).
func (p *Plan) layoutFds(fifo, console bool) {
	next := 3 + p.PreserveFds
	p.SyncFd, p.FifoFd, p.ConsoleFd = next, -1, -1
	next++
	if fifo {
		p.FifoFd, next = next, next+1
	}
	if console {
		p.ConsoleFd = next
	}
}

// hasCgroupMount: a cgroup file system is mounted in the container; it
// shows the cgroup namespace's root, so the init must be placed first.
func (p *Plan) hasCgroupMount() bool {
	if p.Rootfs == nil {
		return false
	}
	for _, m := range p.Rootfs.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			return true
		}
	}
	return false
}

// plannedResolve is what the init will resolve in the container's root
// (process.Resolve), as far as the config says it before any file is
// read: the numeric ids and the program as named.
func plannedResolve(p specs.Process) *process.Resolved {
	return &process.Resolved{UID: p.User.UID, GID: p.User.GID, Groups: p.User.AdditionalGids,
		Path: p.Args[0], Args: p.Args, Env: p.Env}
}

// warnIgnoredCaps gives runc's warnings for what the plan accepted but
// changed: the capabilities it left out (libcontainer/capabilities.New:
// unknown names, and those the running kernel does not have;
// caps.FromSpec, Set.Ignored), and, for create, the root filesystem's
// (rootfs.Config.Warnings: relative mount destinations).
func (r Root) warnIgnoredCaps(p *Plan) {
	if p.Rootfs != nil {
		for _, w := range p.Rootfs.Warnings {
			r.warnf("%s", w)
		}
	}
	if p.Caps == nil || len(p.Caps.Ignored) == 0 {
		return
	}
	r.warnf("ignoring unknown or unavailable capabilities: %v", slices.Sorted(slices.Values(p.Caps.Ignored)))
}
