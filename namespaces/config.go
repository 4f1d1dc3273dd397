package namespaces

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/raw"
)

// Config describes a process to start in new and/or joined namespaces. The
// namespace part is shaped like the OCI runtime spec's "linux" section;
// the command part like os/exec.Cmd, but with files only, because the
// child gets file descriptors, not Go readers.
type Config struct {
	// Namespaces lists the kinds the process does not share with its
	// parent: an entry with an empty Path is a new namespace, one with a
	// Path joins the namespace that file names (/proc/PID/ns/net, or a
	// bind mount of one). Each kind may appear once; kinds not listed are
	// inherited, as in config.json's linux.namespaces.
	Namespaces []specs.LinuxNamespace
	// UIDMappings and GIDMappings are written to the child's
	// /proc/PID/uid_map and gid_map after it made a new user namespace:
	// ContainerID is the ID inside, HostID the ID outside, Size how many.
	// Required with a new user namespace, refused without one.
	UIDMappings []specs.LinuxIDMapping
	GIDMappings []specs.LinuxIDMapping
	// Hostname is set with sethostname(2) in the child; it needs a new UTS
	// namespace (else it would rename the host).
	Hostname string
	// RootPropagation, when non-zero, is applied to "/" recursively with
	// mount(2) right after a new mount namespace is made, for example
	// MS_REC|MS_PRIVATE so that mounts made inside do not propagate back
	// to the host through shared mounts (what unshare(1) does by default).
	RootPropagation uintptr

	// Path is the program to execve(2). It is looked up in the child,
	// after the joins: in a joined mount namespace, the path is the one
	// seen there. See ExecFile.
	Path string
	// Args is argv, including argv[0]; empty means {Path}.
	Args []string
	// Env is the environment; nil means this process's.
	Env []string
	// Dir, if set, is the working directory, changed to in the child
	// after the joins.
	Dir string
	// Prog, if set, is run by the final child after the steps above (in
	// its namespaces, after the go-ahead, the hostname, Dir and the
	// parent-death signal) instead of executing Path: its last op is its
	// own execve. A Prog with raw.Done makes Start return at Done, the
	// child's setup complete, not at its execve. See package raw.
	Prog *raw.Prog
	// OnAsk runs in the parent when Prog's child reaches a raw.Ask op,
	// with the pid of the process running Prog (as the caller's PID
	// namespace sees it); the child goes on once it returned nil. An
	// error fails Start, which kills the child.
	OnAsk func(pid int) error
	// ExecFile, if set, is the program the child executes with
	// execveat(fd, "", AT_EMPTY_PATH) instead of looking up Path: a
	// binary opened here (such as /proc/self/exe, to re-execute ctr-lite
	// as a container's init) that the joined mount namespace may not have.
	ExecFile *os.File
	// Stdin, Stdout, Stderr become file descriptors 0, 1, 2 of the child;
	// nil means /dev/null.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles become descriptors 3, 4, ... (a nil entry leaves that
	// number closed). Every other descriptor is closed at execve(2):
	// Go opens all files with O_CLOEXEC.
	ExtraFiles []*os.File
	// CgroupFD, if set, is an open cgroup v2 directory (O_PATH is
	// enough) the child is born in: clone3(2) with CLONE_INTO_CGROUP
	// (Linux 5.7) instead of fork, so nobody writes cgroup.procs later
	// (that write takes cgroup_threadgroup_rwsem and waits for an RCU
	// grace period). A second fork for a PID or time namespace inherits
	// it. Process.InCgroup tells whether the kernel could do it.
	CgroupFD *os.File
	// CgroupTasks are cgroup v1 "tasks" files, open for writing, one per
	// hierarchy of the group the process joins; CgroupProcs is the
	// cgroup2 group's cgroup.procs. The child's first act, before any
	// other step, is to write "0" (itself) to each: the program and all
	// it forks are counted from its first instruction. A thread moving
	// itself through "tasks" takes no cgroup_threadgroup_rwsem write lock,
	// so it never waits for the RCU grace period that a cgroup.procs
	// write (by anyone) may wait for on an idle system. CgroupProcs is
	// written only when the process was not born in CgroupFD's group
	// (no CgroupFD, or clone3 fell back to fork).
	CgroupTasks []*os.File
	CgroupProcs *os.File
	// ParentDeathSignal, if non-zero, is the signal the process gets when
	// the thread that started it exits (prctl(2) PR_SET_PDEATHSIG, set
	// in the process Start returns, after its last credential change,
	// which would clear it). Set, it is checked: if the caller died
	// before, the process exits instead of running on. The kernel sends
	// it when the forking *thread* exits, not the process: the caller
	// keeps its goroutine locked to its thread (runtime.LockOSThread)
	// from Start for as long as the signal matters, and the program
	// clears it (PR_SET_PDEATHSIG 0) when it should outlive the caller.
	// The setting survives execve(2) unless the program is set-user-ID,
	// set-group-ID or has file capabilities.
	ParentDeathSignal syscall.Signal
}

// plan is a validated Config: which kinds are new, which are joined.
type plan struct {
	newFlags uintptr       // CLONE_NEW* of the new kinds
	newKinds []Kind        // in join order
	joins    []join        // in join order
	byKind   map[Kind]bool // every kind listed
}

type join struct {
	kind Kind
	path string
}

func (p *plan) isNew(k Kind) bool { return p.newFlags&k.Flag() != 0 }

// validate checks c without touching the system beyond nothing: the join
// paths are opened and checked later, before the fork.
func (c *Config) validate() (*plan, error) {
	p := &plan{byKind: map[Kind]bool{}}
	joins := map[Kind]string{}
	for _, ns := range c.Namespaces {
		k, err := ParseKind(string(ns.Type))
		if err != nil {
			return nil, err
		}
		if p.byKind[k] {
			return nil, errorf("namespace %s listed twice", k)
		}
		p.byKind[k] = true
		if ns.Path == "" {
			p.newFlags |= k.Flag()
		} else {
			joins[k] = ns.Path
		}
	}
	for _, k := range Kinds() {
		if p.isNew(k) {
			p.newKinds = append(p.newKinds, k)
		}
		if path, ok := joins[k]; ok {
			p.joins = append(p.joins, join{k, path})
		}
	}
	newUser := p.isNew(User)
	switch {
	case !newUser && (len(c.UIDMappings) > 0 || len(c.GIDMappings) > 0):
		return nil, errors.New("uid/gid mappings need a new user namespace")
	case newUser && (len(c.UIDMappings) == 0 || len(c.GIDMappings) == 0):
		return nil, errors.New("a new user namespace needs uid and gid mappings")
	case c.Hostname != "" && !p.isNew(UTS):
		return nil, errorf("hostname %q needs a new uts namespace", c.Hostname)
	case c.RootPropagation != 0 && !p.isNew(Mount):
		return nil, errors.New("root propagation needs a new mount namespace")
	case c.Path == "" && c.ExecFile == nil && c.Prog == nil:
		return nil, errors.New("no command to run")
	}
	for _, m := range append(append([]specs.LinuxIDMapping{}, c.UIDMappings...), c.GIDMappings...) {
		if m.Size == 0 {
			return nil, errorf("id mapping %s: size is 0", FormatIDMapping(m))
		}
	}
	return p, nil
}

// ParseIDMapping parses "inside:outside:count", as unshare(1)'s
// --map-users takes it: "0:1000:1" maps uid 0 inside to 1000 outside.
func ParseIDMapping(s string) (specs.LinuxIDMapping, error) {
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return specs.LinuxIDMapping{}, errorf("id mapping %q: want inside:outside:count", s)
	}
	var v [3]uint32
	for i, x := range f {
		n, err := strconv.ParseUint(x, 10, 32)
		if err != nil {
			return specs.LinuxIDMapping{}, errorf("id mapping %q: %q is not a number", s, x)
		}
		v[i] = uint32(n)
	}
	if v[2] == 0 {
		return specs.LinuxIDMapping{}, errorf("id mapping %q: count is 0", s)
	}
	return specs.LinuxIDMapping{ContainerID: v[0], HostID: v[1], Size: v[2]}, nil
}

// FormatIDMapping is the inverse of ParseIDMapping.
func FormatIDMapping(m specs.LinuxIDMapping) string {
	return fmt.Sprintf("%d:%d:%d", m.ContainerID, m.HostID, m.Size)
}

// RootMappings map root in a new user namespace to the caller's
// effective uid and gid, as unshare --map-root-user (-r) does: the
// simplest mapping an unprivileged user may write.
func RootMappings() (uid, gid []specs.LinuxIDMapping) {
	return []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}},
		[]specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
}

// mapFile is the content of /proc/PID/uid_map or gid_map: one
// "inside outside count" line per range (user_namespaces(7)). The kernel
// takes it in a single write(2), once.
func mapFile(ms []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return b.String()
}

// mapsRoot reports whether uid (or gid) 0 inside is mapped.
func mapsRoot(ms []specs.LinuxIDMapping) bool {
	for _, m := range ms {
		if m.ContainerID == 0 {
			return true
		}
	}
	return false
}
