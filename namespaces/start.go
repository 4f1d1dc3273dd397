package namespaces

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/program"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
	"golang.org/x/sys/unix"
)

// Process is a started process.
type Process struct {
	// Pid is its process ID as seen from the caller's PID namespace.
	Pid int
	// InCgroup: the process was born in Config.CgroupFD's cgroup. False
	// without CgroupFD, or when the kernel lacks clone3 CLONE_INTO_CGROUP
	// and Start fell back to fork: the caller must then move it.
	InCgroup bool
	p        *os.Process
}

// Wait waits for the process to exit (it is a child of the caller, even
// when it was forked by an intermediate process: CLONE_PARENT).
func (p *Process) Wait() (*os.ProcessState, error) { return p.p.Wait() }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.p.Signal(sig) }

// Start starts c.Path in the namespaces c lists and returns once the
// program is executing (or the child failed; the error then names the
// step). r, which may be nil, explains each kernel step before it
// happens; the child's steps are described by the parent.
//
// Order, as the kernel requires and runc follows: join the user
// namespace, join the others, create the new ones with one unshare(2),
// let the parent write the ID maps, become root of the user namespace,
// set the hostname, fork once more if the PID namespace changed or a time
// namespace is new, execve.
func Start(c *Config, r *step.Runner) (*Process, error) {
	pl, err := c.validate()
	if err != nil {
		return nil, err
	}
	s := &starter{c: c, pl: pl, r: r}
	defer s.closeAll()
	if err := s.prepare(); err != nil {
		return nil, err
	}
	return s.run()
}

// starter holds what one Start opened and built.
type starter struct {
	c  *Config
	pl *plan
	r  *step.Runner

	open    []*os.File // closed when Start returns
	nfd     int        // the child gets fds 0..nfd-1
	srcs    []int      // srcs[i] becomes fd i in the child (-1: closed)
	statusR *os.File   // records from the child
	statusW *os.File   // the child's end
	goR     *os.File   // the child's end
	goW     *os.File   // go-ahead byte to the child
	keep    []any      // memory the child's ops point into
	mem     *childMem

	phase1, phase2 []childStep
	forks          bool // an intermediate process forks the final one
	joinsUser      bool // a user namespace is joined
}

// childStep is one op the child makes, with its description.
type childStep struct {
	op   op
	step step.Step
}

func (s *starter) closeAll() {
	for _, f := range s.open {
		f.Close()
	}
}

// above returns a close-on-exec duplicate of fd numbered nfd or higher,
// so that the child's dup3 into 0..nfd-1 never overwrites a source.
func (s *starter) above(f *os.File, what string) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, s.nfd)
	if err != nil {
		return nil, errorf("fcntl F_DUPFD_CLOEXEC %s: %w", what, err)
	}
	d := os.NewFile(uintptr(fd), f.Name())
	s.open = append(s.open, d)
	return d, nil
}

// prepare opens every file the child needs and builds its ops.
func (s *starter) prepare() error {
	c := s.c
	files := append([]*os.File{c.Stdin, c.Stdout, c.Stderr}, c.ExtraFiles...)
	s.nfd = len(files)
	for i, f := range files {
		if f == nil && i < 3 {
			n, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			s.open = append(s.open, n)
			f = n
		}
		if f == nil {
			s.srcs = append(s.srcs, -1)
			continue
		}
		d, err := s.above(f, fmt.Sprintf("for fd %d", i))
		if err != nil {
			return err
		}
		s.srcs = append(s.srcs, int(d.Fd()))
	}
	nsFiles, err := s.openJoins()
	if err != nil {
		return err
	}
	if err := s.pipes(); err != nil {
		return err
	}
	return s.build(nsFiles)
}

// openJoins opens each namespace file to join and checks its kind with
// the NS_GET_NSTYPE ioctl (ioctl_ns(2)), so a wrong path fails here, in
// the parent, before anything is forked.
func (s *starter) openJoins() ([]*os.File, error) {
	var out []*os.File
	var joins []join
	for _, j := range s.pl.joins {
		if j.kind == User && sameAsSelf(j) {
			// setns(2) refuses the caller's own user namespace (EINVAL).
			s.r.Note("already in the user namespace of %s: not joining it", j.path)
			continue
		}
		st := step.Step{Op: "open", Args: fmt.Sprintf("%q, O_RDONLY", j.path),
			Why: "a file descriptor for setns(2) to join this " + j.kind.String() + " namespace"}
		var f *os.File
		st.Do = func() error {
			var err error
			if f, err = os.Open(j.path); err != nil {
				return unwrapPath(err)
			}
			return nil
		}
		if err := s.r.RunOne(st); err != nil {
			return nil, errorf("join %s: %w", j.kind, err)
		}
		s.open = append(s.open, f)
		t, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
		if err != nil {
			return nil, errorf("join %s: %s is not a namespace file (ioctl NS_GET_NSTYPE: %w)", j.kind, j.path, err)
		}
		if uintptr(t) != j.kind.Flag() {
			return nil, errorf("join %s: %s is a %s namespace", j.kind, j.path, kindOfFlag(uintptr(t)))
		}
		d, err := s.above(f, j.path)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
		joins = append(joins, j)
		s.joinsUser = s.joinsUser || j.kind == User
	}
	s.pl.joins = joins
	return out, nil
}

// sameAsSelf reports whether j names the namespace this process is in.
func sameAsSelf(j join) bool {
	ino, dev, err := nsID(j.path)
	if err != nil {
		return false // open reports it
	}
	sino, sdev, err := nsID("/proc/self/ns/" + j.kind.String())
	return err == nil && ino == sino && dev == sdev
}

func kindOfFlag(f uintptr) string {
	for _, k := range Kinds() {
		if k.Flag() == f {
			return k.String()
		}
	}
	return FormatFlags(f)
}

// unwrapPath keeps "open /x: no such file or directory" from repeating
// the path the step already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// pipes makes the two pipes between parent and child: status (child to
// parent: ready, pid, failure; EOF once every process holding it has
// exec'd, thanks to O_CLOEXEC) and go-ahead (parent to child).
func (s *starter) pipes() error {
	mk := func() (*os.File, *os.File, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, errorf("pipe: %w", err)
		}
		s.open = append(s.open, r, w)
		return r, w, nil
	}
	var err error
	var w, r *os.File
	if s.statusR, w, err = mk(); err != nil {
		return err
	}
	if s.statusW, err = s.moveAbove(w, "status pipe"); err != nil {
		return err
	}
	if r, w, err = mk(); err != nil {
		return err
	}
	if s.goR, err = s.moveAbove(r, "go-ahead pipe"); err != nil {
		return err
	}
	s.goW, err = s.moveAbove(w, "go-ahead pipe")
	return err
}

// moveAbove is above for a pipe end of ours: the original is closed at
// once, so that a closed duplicate really closes the pipe end.
func (s *starter) moveAbove(f *os.File, what string) (*os.File, error) {
	d, err := s.above(f, what)
	f.Close()
	return d, err
}

// str returns a pointer to a NUL-terminated copy of v the child can use.
func (s *starter) str(v string) (uintptr, error) {
	p, err := syscall.BytePtrFromString(v)
	if err != nil {
		return 0, errorf("%q: %w", v, err)
	}
	s.keep = append(s.keep, p)
	return uintptr(unsafe.Pointer(p)), nil
}

// strs returns a pointer to a NULL-terminated array of C strings.
func (s *starter) strs(vs []string) (uintptr, error) {
	a, err := syscall.SlicePtrFromStrings(vs)
	if err != nil {
		return 0, errorf("%q: %w", vs, err)
	}
	s.keep = append(s.keep, a)
	return uintptr(unsafe.Pointer(&a[0])), nil
}

func sys(trap uintptr, args ...uintptr) op {
	o := op{Trap: trap}
	copy(o.Args[:], args)
	return o
}

// build lists the child's ops. Phase 1 runs right after the fork, phase 2
// after the parent's go-ahead (once the ID maps are written).
func (s *starter) build(nsFiles []*os.File) error {
	c, pl := s.c, s.pl
	s.mem = &childMem{status: s.statusW.Fd()}
	add1 := func(o op, st step.Step) { s.phase1 = append(s.phase1, childStep{o, st}) }
	add2 := func(o op, st step.Step) { s.phase2 = append(s.phase2, childStep{o, st}) }

	if err := s.buildCgroupJoin(add1); err != nil {
		return err
	}
	if c.Prog != nil {
		// The child is a fork of the runtime: /proc/PID/exe is its
		// binary until the program's execve. Non-dumpable, no process
		// without CAP_SYS_PTRACE may open it (proc(5), ptrace access
		// mode), in a PID namespace it joins too (CVE-2019-5736).
		add1(sys(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0), step.Step{Op: "prctl", Args: "PR_SET_DUMPABLE, 0",
			Why: "a fork of the runtime: nobody in the container may open its /proc/PID/exe (the runtime's binary) until it execs"})
	}
	add1(sys(unix.SYS_CLOSE, s.goW.Fd()), step.Step{Op: "close", Args: fmt.Sprint(s.goW.Fd()),
		Why: "drop the child's copy of the go-ahead pipe's write end, so it sees EOF if the parent dies"})
	for i, src := range s.srcs {
		if src < 0 {
			continue
		}
		// dup3 (dup2 is missing on arm64) clears O_CLOEXEC on the copy:
		// the one descriptor that survives execve.
		add1(sys(unix.SYS_DUP3, uintptr(src), uintptr(i), 0), step.Step{Op: "dup3",
			Args: fmt.Sprintf("%d, %d, 0", src, i), Why: "fd " + fdName(i) + " of the program"})
	}
	for i, j := range pl.joins {
		add1(sys(unix.SYS_SETNS, nsFiles[i].Fd(), j.kind.Flag()), step.Step{Op: "setns",
			Args: fmt.Sprintf("%q, %s", j.path, FormatFlags(j.kind.Flag())), Why: joinWhy(j.kind)})
	}
	if pl.newFlags != 0 {
		add1(sys(unix.SYS_UNSHARE, pl.newFlags), step.Step{Op: "unshare", Args: FormatFlags(pl.newFlags),
			Why: unshareWhy(pl)})
	}
	if c.RootPropagation != 0 {
		root, err := s.str("/")
		if err != nil {
			return err
		}
		add1(sys(unix.SYS_MOUNT, 0, root, 0, c.RootPropagation, 0), step.Step{Op: "mount",
			Args: fmt.Sprintf("NULL, \"/\", NULL, %s, NULL", propagationName(c.RootPropagation)),
			Why:  "stop mount events propagating between this mount namespace and the old one"})
	}
	ready := &record{recReady}
	s.keep = append(s.keep, ready)
	add1(sys(unix.SYS_WRITE, s.statusW.Fd(), uintptr(unsafe.Pointer(ready)), unsafe.Sizeof(*ready)),
		step.Step{Op: "write", Args: "status pipe, \"ready\"", Why: "tell the parent the namespaces exist"})
	buf := new([1]byte)
	s.keep = append(s.keep, buf)
	o := sys(unix.SYS_READ, s.goR.Fd(), uintptr(unsafe.Pointer(buf)), 1)
	o.Check, o.Want = true, 1
	add1(o, step.Step{Op: "read", Args: "go-ahead pipe", Why: "wait for the parent (it writes the ID maps first)"})

	if (pl.isNew(User) && mapsRoot(c.UIDMappings) && mapsRoot(c.GIDMappings)) || s.joinsUser {
		add2(sys(sysSetresgid, 0, 0, 0), step.Step{Op: "setresgid", Args: "0, 0, 0",
			Why: "become gid 0 of the user namespace (gid first: setresuid drops the right to)"})
		add2(sys(sysSetresuid, 0, 0, 0), step.Step{Op: "setresuid", Args: "0, 0, 0",
			Why: "become root of the user namespace, so the capabilities survive execve"})
	}
	if c.Hostname != "" {
		h, err := s.str(c.Hostname)
		if err != nil {
			return errorf("hostname: %w", err)
		}
		add2(sys(unix.SYS_SETHOSTNAME, h, uintptr(len(c.Hostname))), step.Step{Op: "sethostname",
			Args: fmt.Sprintf("%q", c.Hostname), Why: "name the new UTS namespace; the host keeps its name"})
	}
	if c.Dir != "" {
		d, err := s.str(c.Dir)
		if err != nil {
			return errorf("dir: %w", err)
		}
		add2(sys(unix.SYS_CHDIR, d), step.Step{Op: "chdir", Args: fmt.Sprintf("%q", c.Dir),
			Why: "the program's working directory"})
	}
	if why := forkWhy(pl); why != "" {
		s.forks = true
		f := sys(unix.SYS_CLONE, unix.CLONE_PARENT|uintptr(unix.SIGCHLD))
		f.Fork = true
		add2(f, step.Step{Op: "clone", Args: FormatFlags(unix.CLONE_PARENT | uintptr(unix.SIGCHLD)),
			Why: why + "; CLONE_PARENT makes it ctr-lite's child, the intermediate one exits"})
	}
	if c.ParentDeathSignal != 0 {
		if err := s.buildPdeathsig(add2); err != nil {
			return err
		}
	}
	if c.Prog != nil {
		// A fault in the program's ops must end the child: the Go
		// runtime's handler cannot run without its other threads.
		dfl := new([8]uintptr) // larger than any arch's struct sigaction: all zeros is SIG_DFL
		s.keep = append(s.keep, dfl)
		for _, sig := range []unix.Signal{unix.SIGSEGV, unix.SIGBUS} {
			add2(sys(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(dfl)), 0, 8), step.Step{Op: "rt_sigaction",
				Args: unix.SignalName(sig) + ", SIG_DFL", Why: "a fault in the child's own ops ends it: the Go runtime's handler cannot run without its threads"})
		}
		// The program ends with its own execve (raw.Done before it).
		s.mem.regs[raw.RegStatus] = s.statusW.Fd()
		s.mem.regs[raw.RegGo] = s.goR.Fd()
		return nil
	}
	return s.buildExec(add2)
}

// buildCgroupJoin makes the child's first ops the joins of its cgroups:
// "0" written to each of Config.CgroupTasks, then to CgroupProcs unless
// the child was born in the group (clone3 CLONE_INTO_CGROUP).
func (s *starter) buildCgroupJoin(add func(op, step.Step)) error {
	c := s.c
	if len(c.CgroupTasks) == 0 && c.CgroupProcs == nil {
		return nil
	}
	zero, err := s.str("0")
	if err != nil {
		return err
	}
	for _, f := range c.CgroupTasks {
		add(sys(unix.SYS_WRITE, f.Fd(), zero, 1), step.Step{Op: "write", Args: fmt.Sprintf("%s, \"0\"", f.Name()),
			Why: "the child joins its own cgroup, this thread only (0: the writer): no RCU grace period wait"})
	}
	if f := c.CgroupProcs; f != nil {
		o := sys(unix.SYS_WRITE, f.Fd(), zero, 1)
		o.UnlessBorn = true
		add(o, step.Step{Op: "write", Args: fmt.Sprintf("%s, \"0\"", f.Name()),
			Why: "the child joins its own cgroup (0: the writer) before anything else runs"})
	}
	return nil
}

// buildPdeathsig arms the parent-death signal in the process that will
// execve (after the fork and the credential changes, which clear it),
// then checks the parent is still there: if it died before, no signal
// will ever come. getppid(2) cannot tell (0 in a new PID namespace, and
// an orphan's new parent is as unknown), so the check is the go-ahead
// pipe: the parent holds its write end until Start returns, and only
// the parent, so POLLHUP means it is gone.
func (s *starter) buildPdeathsig(add func(op, step.Step)) error {
	sig := s.c.ParentDeathSignal
	add(sys(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(sig)), step.Step{Op: "prctl",
		Args: fmt.Sprintf("PR_SET_PDEATHSIG, %s", unix.SignalName(sig)),
		Why:  "die with the starting thread of the runtime until the program clears it"})
	pfd := &unix.PollFd{Fd: int32(s.goR.Fd()), Events: unix.POLLIN}
	ts := &unix.Timespec{}
	s.keep = append(s.keep, pfd, ts)
	o := sys(unix.SYS_PPOLL, uintptr(unsafe.Pointer(pfd)), 1, uintptr(unsafe.Pointer(ts)), 0, 0)
	o.Check, o.Want = true, 0
	add(o, step.Step{Op: "ppoll", Args: "go-ahead pipe, POLLIN, timeout 0",
		Why: "0: the parent still holds the pipe; POLLHUP: it died before the signal was armed, so exit"})
	return nil
}

func (s *starter) buildExec(add func(op, step.Step)) error {
	c := s.c
	args := c.Args
	if len(args) == 0 {
		args = []string{c.Path}
	}
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	argv, err := s.strs(args)
	if err != nil {
		return errorf("args: %w", err)
	}
	envp, err := s.strs(env)
	if err != nil {
		return errorf("env: %w", err)
	}
	if c.ExecFile != nil {
		d, err := s.above(c.ExecFile, "exec file")
		if err != nil {
			return err
		}
		empty, _ := s.str("")
		add(sys(unix.SYS_EXECVEAT, d.Fd(), empty, argv, envp, unix.AT_EMPTY_PATH), step.Step{Op: "execveat",
			Args: fmt.Sprintf("%d (%s), \"\", %q, AT_EMPTY_PATH", d.Fd(), c.ExecFile.Name(), args),
			Why:  "run the program opened before the joins; namespaces and fds 0.." + fmt.Sprint(s.nfd-1) + " stay"})
		return nil
	}
	path, err := s.str(c.Path)
	if err != nil {
		return errorf("path: %w", err)
	}
	add(sys(unix.SYS_EXECVE, path, argv, envp), step.Step{Op: "execve", Args: fmt.Sprintf("%q, %q", c.Path, args),
		Why: "replace the child with the program; namespaces and fds 0.." + fmt.Sprint(s.nfd-1) + " stay"})
	return nil
}

func fdName(i int) string {
	switch i {
	case 0:
		return "0 (stdin)"
	case 1:
		return "1 (stdout)"
	case 2:
		return "2 (stderr)"
	}
	return fmt.Sprint(i)
}

func joinWhy(k Kind) string {
	switch k {
	case User:
		return "join the user namespace first: it grants the capabilities the other joins are checked against (single-threaded caller only)"
	case PID:
		return "sets only pid_for_children: the process forked next is born in it"
	case Time:
		return "needs a single-threaded caller (timens_install)"
	case Mount:
		return "last of the joins: it also changes the root and working directory"
	}
	return "join the " + k.String() + " namespace of that file"
}

func unshareWhy(pl *plan) string {
	var w []string
	for _, k := range pl.newKinds {
		w = append(w, k.String())
	}
	why := "make new " + strings.Join(w, ", ") + " namespaces"
	if pl.isNew(User) {
		why += "; the user namespace is made first and owns the others"
	}
	if pl.isNew(PID) || pl.isNew(Time) {
		why += "; pid/time only apply to the children (the process forked below)"
	}
	return why
}

// forkWhy says why the child must fork once more before execve, or ""
// if it need not. A new or joined PID namespace, and a new time
// namespace, are only entered by the caller's children (pid_for_children,
// time_for_children). Newer kernels also move the caller into its new
// time namespace at execve (exec_task_namespaces), older ones (6.1) do
// not: the fork makes it the same everywhere.
func forkWhy(pl *plan) string {
	var why, what []string
	switch {
	case pl.isNew(PID):
		why = append(why, "a process never changes its own PID namespace")
		what = append(what, "is PID 1 of the new PID namespace")
	case pl.byKind[PID]:
		why = append(why, "a process never changes its own PID namespace")
		what = append(what, "is in the joined PID namespace")
	}
	if pl.isNew(Time) {
		why = append(why, "unshare(CLONE_NEWTIME) moves only the children (execve too, on recent kernels only)")
		what = append(what, "is in the new time namespace")
	}
	if len(why) == 0 {
		return ""
	}
	return strings.Join(why, "; ") + ": fork the one that " + strings.Join(what, " and ")
}

func propagationName(f uintptr) string {
	var p []string
	for _, x := range []struct {
		f uintptr
		n string
	}{{unix.MS_REC, "MS_REC"}, {unix.MS_PRIVATE, "MS_PRIVATE"}, {unix.MS_SLAVE, "MS_SLAVE"},
		{unix.MS_SHARED, "MS_SHARED"}, {unix.MS_UNBINDABLE, "MS_UNBINDABLE"}} {
		if f&x.f != 0 {
			p = append(p, x.n)
		}
	}
	return strings.Join(p, "|")
}

// run forks the child and drives it through both phases.
func (s *starter) run() (*Process, error) {
	ops := make([]op, 0, len(s.phase1)+len(s.phase2))
	for _, cs := range append(append([]childStep{}, s.phase1...), s.phase2...) {
		ops = append(ops, cs.op)
	}
	steps := append(append([]childStep{}, s.phase1...), s.phase2...)
	if s.c.Prog != nil {
		ops = append(ops, s.progOps(len(ops))...)
	}

	// Describe the clone and everything the child does up to "ready"
	// before forking: the child runs as soon as it exists.
	clone, ca := s.cloneStep()
	s.r.RunOne(clone)
	s.r.Note("the child then does:")
	for _, cs := range s.phase1 {
		if cs.op.UnlessBorn && ca != nil {
			continue // born in the cgroup: shown only if clone3 falls back
		}
		s.r.RunOne(cs.step)
	}
	syscall.ForkLock.Lock()
	pid, fellBack, e := forkAndRun(ops, s.mem, ca)
	syscall.ForkLock.Unlock()
	runtime.KeepAlive(s.keep)
	runtime.KeepAlive(ca)
	if e != 0 {
		return nil, &step.Error{Step: clone, Err: e}
	}
	if fellBack {
		if s.c.CgroupProcs != nil {
			s.r.Note("clone3(CLONE_INTO_CGROUP) is not supported here: forked with clone(SIGCHLD); the child joins the cgroup by writing \"0\" to %s", s.c.CgroupProcs.Name())
		} else {
			s.r.Note("clone3(CLONE_INTO_CGROUP) is not supported here: forked with clone(SIGCHLD); the cgroup is joined by a write to cgroup.procs")
		}
	}
	// Only the child holds these now; closing ours makes EOF mean "done".
	s.statusW.Close()
	s.goR.Close()

	ch := &children{first: pid, forks: s.forks}
	rec, err := readRecord(s.statusR)
	switch {
	case err != nil:
		return nil, ch.abort(errorf("child %d: status pipe: %w", pid, err))
	case rec[0] == recFail:
		ch.collect(s.statusR, nil)
		return nil, ch.abort(s.childError(steps, rec))
	case rec[0] != recReady:
		return nil, ch.abort(errorf("child %d: unexpected record %v", pid, rec))
	}
	if err := s.writeMaps(pid); err != nil {
		return nil, ch.abort(err)
	}
	if len(s.phase2) > 0 {
		s.r.Note("go-ahead; the child now does:")
	}
	for _, cs := range s.phase2 {
		s.r.RunOne(cs.step)
	}
	if _, err := s.goW.Write([]byte{1}); err != nil {
		return nil, ch.abort(errorf("child %d: go-ahead pipe: %w", pid, err))
	}
	ask := func() error {
		final := ch.first
		if s.forks {
			final = ch.second
		}
		if s.c.OnAsk != nil {
			if err := s.c.OnAsk(final); err != nil {
				return err
			}
		}
		if _, err := s.goW.Write([]byte{1}); err != nil {
			return errorf("child %d: go-ahead pipe: %w", final, err)
		}
		return nil
	}
	if err := ch.collect(s.statusR, ask); err != nil {
		return nil, ch.abort(err)
	}
	if ch.fail != nil {
		return nil, ch.abort(s.childError(steps, *ch.fail))
	}
	if s.c.Prog != nil && s.c.Prog.HasDone() && !ch.done {
		return nil, ch.abort(errorf("child %d: exited before its setup was done", pid))
	}
	final := pid
	if s.forks {
		if err := ch.reapFirst(); err != nil {
			return nil, ch.abort(err)
		}
		if ch.second == 0 {
			return nil, ch.abort(errorf("child %d exited without forking", pid))
		}
		final = ch.second
	}
	p, err := os.FindProcess(final)
	if err != nil {
		return nil, ch.abort(err)
	}
	runtime.KeepAlive(s.keep)
	runtime.KeepAlive(s.mem)
	if s.c.Prog != nil {
		runtime.KeepAlive(s.c.Prog.KeepAlive())
	}
	return &Process{Pid: final, p: p, InCgroup: ca != nil && !fellBack}, nil
}

// cloneStep is the fork of the child: clone3 into Config.CgroupFD's
// cgroup when it is set, else clone(SIGCHLD), like fork(2).
func (s *starter) cloneStep() (step.Step, *cloneArgs) {
	why := "fork a single-threaded child (a copy of this thread only): setns of user/time namespaces needs one"
	f := s.c.CgroupFD
	if f == nil {
		return step.Step{Op: "clone", Args: FormatFlags(uintptr(unix.SIGCHLD)), Why: why}, nil
	}
	ca := &cloneArgs{flags: unix.CLONE_INTO_CGROUP, exitSignal: uint64(unix.SIGCHLD), cgroup: uint64(f.Fd())}
	return step.Step{Op: "clone3", Args: "CLONE_INTO_CGROUP, " + f.Name() + ", exit_signal=SIGCHLD",
		Why: why + "; it is born in that cgroup, no cgroup.procs write"}, ca
}

// writeMaps writes the ID maps of the child's new user namespace. It is
// the parent's job: the kernel takes a map only from a process with
// CAP_SETUID/CAP_SETGID in the namespace's parent user namespace (or
// for the writer's own single ID), once, in one write.
func (s *starter) writeMaps(pid int) error {
	if !s.pl.isNew(User) {
		return nil
	}
	uidStep := writeStep(fmt.Sprintf("/proc/%d/uid_map", pid), mapFile(s.c.UIDMappings),
		"uid inside, uid outside, count: which host uids the namespace's uids are")
	gidStep := writeStep(fmt.Sprintf("/proc/%d/gid_map", pid), mapFile(s.c.GIDMappings),
		"the same for gids")
	if os.Geteuid() != 0 {
		// An unprivileged writer may map only its own id (and a gid
		// only once setgroups(2) is denied); a wider map (a
		// subordinate range from /etc/subuid) needs the setuid
		// newuidmap/newgidmap (shadow's uidmap), as runc 1.1 uses.
		if !ownOnly(s.c.UIDMappings, os.Geteuid()) {
			uidStep = idmapHelperStep("newuidmap", pid, s.c.UIDMappings)
		}
		if !ownOnly(s.c.GIDMappings, os.Getegid()) {
			gidStep = idmapHelperStep("newgidmap", pid, s.c.GIDMappings)
		} else {
			if err := s.r.Run(writeStep(fmt.Sprintf("/proc/%d/setgroups", pid), "deny",
				"an unprivileged writer may map gids only once setgroups(2) is denied (user_namespaces(7))")); err != nil {
				return err
			}
		}
	}
	return s.r.Run(uidStep, gidStep)
}

// ownOnly: ms maps exactly one id, the caller's own id (what an
// unprivileged process may write itself, user_namespaces(7)).
func ownOnly(ms []specs.LinuxIDMapping, id int) bool {
	return len(ms) == 1 && ms[0].Size == 1 && int64(ms[0].HostID) == int64(id)
}

// idmapHelperStep runs newuidmap or newgidmap PID INSIDE OUTSIDE COUNT...:
// setuid helpers that write a map of the ranges /etc/subuid (subgid)
// grants the caller.
func idmapHelperStep(tool string, pid int, ms []specs.LinuxIDMapping) step.Step {
	args := []string{strconv.Itoa(pid)}
	for _, m := range ms {
		args = append(args, strconv.FormatUint(uint64(m.ContainerID), 10), strconv.FormatUint(uint64(m.HostID), 10), strconv.FormatUint(uint64(m.Size), 10))
	}
	return step.Step{Op: tool, Args: strings.Join(args, " "),
		Why: "a map wider than the caller's own id, from the ranges /etc/sub{u,g}id grant it (setuid helper)",
		Do: func() error {
			path, err := program.LookPath(tool)
			if err != nil {
				return errorf("map %q for a user who is not root: needs %s (the uidmap package) and an /etc/sub%sid range: %w",
					strings.TrimSpace(mapFile(ms)), tool, tool[3:4], err)
			}
			out, err := program.Command(path, args...).CombinedOutput()
			if err != nil {
				return errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
			}
			return nil
		},
		ReadBack: func() (string, error) {
			f := "uid_map"
			if tool == "newgidmap" {
				f = "gid_map"
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
			return strings.TrimSpace(string(b)), err
		}}
}

func writeStep(path, data, why string) step.Step {
	return step.Step{Op: "write " + path, Args: fmt.Sprintf("%q", data), Why: why,
		Do: func() error {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return unwrapPath(err)
			}
			_, err = f.Write([]byte(data))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return unwrapPath(err)
		},
		ReadBack: func() (string, error) {
			b, err := os.ReadFile(path)
			return strings.TrimSpace(string(b)), err
		}}
}

func readRecord(r io.Reader) (record, error) {
	var b [unsafe.Sizeof(record{})]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return record{}, err
	}
	return *(*record)(unsafe.Pointer(&b)), nil
}

// progOps are Config.Prog's ops placed after the n ops before them: their
// jumps are made absolute.
func (s *starter) progOps(n int) []op {
	ops := append([]op(nil), s.c.Prog.Ops...)
	for i := range ops {
		if ops[i].Trap == raw.Goto || ops[i].Else != [2]syscall.Errno{} {
			ops[i].Jump += int32(n)
		}
	}
	return ops
}

// childError names the step the child failed at: "setns ...: invalid argument".
func (s *starter) childError(steps []childStep, rec record) error {
	i := int(rec[1])
	if s.c.Prog != nil && i >= len(steps) {
		return s.c.Prog.Error(i-len(steps), syscall.Errno(rec[2]))
	}
	if i >= len(steps) {
		return errorf("child failed at op %d: %w", i, syscall.Errno(rec[2]))
	}
	return &step.Error{Step: steps[i].step, Err: syscall.Errno(rec[2])}
}

// children tracks the one or two processes Start forked, so that a
// failure leaves none behind.
type children struct {
	first, second int
	fail          *record
	firstReaped   bool
	done          bool // raw.Done: the child's setup is complete
	forks         bool // an intermediate process forks the final one
}

// collect reads records until EOF (every process holding the status pipe
// has exec'd or exited) or the child's Done (its setup is complete; it
// then waits for `start`, see raw.Done).
//
// A raw.Ask record calls ask once the final process's pid is known (the
// intermediate process's record of it may come after).
func (ch *children) collect(r io.Reader, ask func() error) error {
	asked := false
	// Done may come before the intermediate process's record of the
	// final one's pid: read on until both are in.
	for !ch.done || (ch.forks && ch.second == 0) {
		rec, err := readRecord(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errorf("status pipe: %w", err)
		}
		switch rec[0] {
		case recPID:
			ch.second = int(rec[2])
		case recAsk:
			asked = true
		case recDone:
			ch.done = true
		case recFail:
			if ch.fail == nil {
				f := rec
				ch.fail = &f
			}
		}
		if asked && ask != nil && (ch.second != 0 || !ch.forks) {
			asked = false
			if err := ask(); err != nil {
				return err
			}
		}
	}
	return nil
}

// reapFirst waits for the intermediate process, which exits 0 once it has
// forked the final one.
func (ch *children) reapFirst() error {
	var ws unix.WaitStatus
	if _, err := unix.Wait4(ch.first, &ws, 0, nil); err != nil {
		return errorf("wait4 %d: %w", ch.first, err)
	}
	ch.firstReaped = true
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return errorf("intermediate child %d failed: %v", ch.first, ws)
	}
	return nil
}

// abort kills and reaps every child and returns err.
func (ch *children) abort(err error) error {
	for _, pid := range []int{ch.first, ch.second} {
		if pid == 0 || (pid == ch.first && ch.firstReaped) {
			continue
		}
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			if _, e := unix.Wait4(pid, &ws, 0, nil); e != unix.EINTR {
				break
			}
		}
	}
	return err
}
