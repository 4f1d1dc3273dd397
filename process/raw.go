package process

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// RawHooks are RawSteps' counterparts of Config.BeforeUser, AfterUser
// and Last: builders that append the caps and seccomp ops (caps.Set's
// BoundingRaw and ApplyRaw, seccomp.LoadRaw) at the same places.
type RawHooks struct {
	BeforeUser, AfterUser, Last func(*raw.Prog) error
}

// StdioFile is what RawSteps knows of one of the child's fds 0, 1 and 2
// for Config.ChownStdio: the parent fstat's the files it will pass
// (StatStdio) and the child fchown's only those the Go step would. The
// zero value is a file made in the child (a console's pty): always
// fchown'ed.
type StdioFile struct {
	Known  bool   // fstat'ed by the parent
	Closed bool   // no file at that fd: nothing to chown
	UID    uint32 // its owner
	Null   bool   // /dev/null (char 1:3), left alone
}

// StatStdio fstat's fds (the files that become the child's 0, 1 and 2;
// -1 for none) as the Go step does before its fchown.
func StatStdio(fds [3]int) ([3]StdioFile, error) {
	var out [3]StdioFile
	for i, fd := range fds {
		out[i].Known = true
		var st unix.Stat_t
		if fd < 0 {
			out[i].Closed = true
			continue
		}
		if err := unix.Fstat(fd, &st); err != nil {
			if errors.Is(err, unix.EBADF) {
				out[i].Closed = true
				continue
			}
			return out, errorf("fstat fd %d: %w", fd, err)
		}
		out[i].UID = st.Uid
		out[i].Null = st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)
	}
	return out, nil
}

// ResolveForRaw is what Resolve works out in the runtime, before the
// container's root exists for the child: the user from cfg.Root's
// /etc/passwd and /etc/group (the rootfs's host path, read in-root as
// Resolve reads it: no symlink or ".." leads out, only regular files)
// and the final environment. The program is not looked up: RawSteps has
// the child do it after pivot_root, where mounts may have added it. cfg
// must have passed Validate.
func ResolveForRaw(cfg Config) (*Resolved, error) {
	root := cfg.Root
	if root == "" {
		root = "/"
	}
	u, err := resolveUser(root, cfg.UserSpec, cfg.Process.User, cfg.Groups)
	if err != nil {
		return nil, err
	}
	r := &Resolved{UID: u.UID, GID: u.GID, Groups: u.Groups, Home: u.Home, Args: cfg.Process.Args}
	r.Env = finalEnv(cfg.Process.Env, u.Home)
	return r, nil
}

// RawSteps appends to p the ops that do what StepsFor's steps do, in the
// same order and with the same descriptions, up to (not including) the
// final execve: the program lookup (the child's, after pivot_root, see
// LookPathRaw; r.PathReg is set to the register holding the path
// found), hostname, domainname, sysctls, rlimits, oom_score_adj, the
// fds, chdir, cfg.Raw.BeforeUser, the stdio owner, the user change,
// cfg.Raw.AfterUser, chdir again, umask, no_new_privs, cfg.Raw.Last. The
// caller then adds what comes before the program (the ready record, the
// wait for `start`, DefaultSignalsRaw) and ExecRaw.
//
// r comes from ResolveForRaw; cfg must have passed Validate, and its Go
// hooks (BeforeUser, AfterUser, Last) must be empty: use cfg.Raw.
//
// A *raw.NeedsGo error says the Go init must set up this process: the
// kernel lacks close_range(2) CLOSE_RANGE_CLOEXEC (5.11) or, for
// oom_score_adj and sysctls, openat2(2) (5.6); or supplementary groups
// are asked for in a user namespace where setgroups(2) is denied (the Go
// step gives the error).
func RawSteps(cfg Config, r *Resolved, p *raw.Prog) error {
	if len(cfg.BeforeUser)+len(cfg.AfterUser)+len(cfg.Last) > 0 {
		return errors.New("process: RawSteps takes its hooks in Config.Raw, not as Go steps")
	}
	if !haveCloseRangeCloexec() {
		return &raw.NeedsGo{Why: "close_range(2) CLOSE_RANGE_CLOEXEC needs Linux 5.11"}
	}
	pr := cfg.Process
	if (pr.OOMScoreAdj != nil || len(cfg.Sysctl) > 0) && !haveOpenat2() {
		return &raw.NeedsGo{Why: "writes through a checked procfs need openat2(2) (Linux 5.6)"}
	}
	if cfg.SetgroupsDenied && len(r.Groups) > 0 {
		return &raw.NeedsGo{Why: "supplementary groups in a user namespace that denies setgroups(2)"}
	}
	proc := cfg.Proc
	if proc == "" {
		proc = "/proc"
	}
	cwd := pr.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if len(r.Args) == 0 {
		return errors.New("process: no command (args is empty)")
	}
	name := r.Args[0]
	if strings.Contains(name, "/") && !filepath.IsAbs(name) {
		name = filepath.Join(cwd, name)
	}
	var err error
	if r.PathReg, err = LookPathRaw(p, name, r.Env); err != nil {
		return err
	}
	if cfg.Hostname != "" {
		if err := utsRaw(p, sethostnameStep(cfg.Hostname), unix.SYS_SETHOSTNAME, cfg.Hostname); err != nil {
			return err
		}
	}
	if cfg.Domainname != "" {
		if err := utsRaw(p, setdomainnameStep(cfg.Domainname), unix.SYS_SETDOMAINNAME, cfg.Domainname); err != nil {
			return err
		}
	}
	ws, _ := procfs.Sysctls(cfg.Sysctl) // validated
	for i, st := range sysctlSteps(proc, cfg.Sysctl) {
		if err := procWriteRaw(p, st, proc, ws[i].Path, ws[i].Value, procBeneath, nil); err != nil {
			return err
		}
	}
	if err := rlimitRaw(p, pr.Rlimits); err != nil {
		return err
	}
	if pr.OOMScoreAdj != nil {
		v := *pr.OOMScoreAdj
		// The child's oom_score_adj is ours until it writes its own.
		old, _ := procfs.Read("/proc", strconv.Itoa(os.Getpid())+"/oom_score_adj")
		// Through "self": the child cannot name its pid in a path.
		rel := "self/oom_score_adj"
		err := procWriteRaw(p, oomScoreAdjStepAt(proc, rel, v), proc, rel, strconv.Itoa(v), procViaSelf,
			func(e syscall.Errno) error { return oomScoreAdjErr(old, v, e) })
		if err != nil {
			return err
		}
	}
	cloexecRaw(p, cfg.KeepFDs)
	chdir := &chdirState{path: cwd}
	retry, err := chdirRaw(p, chdir.first(), cwd, 0)
	if err != nil {
		return err
	}
	if err := hook(p, cfg.Raw.BeforeUser); err != nil {
		return err
	}
	if cfg.ChownStdio {
		stdioOwnerRaw(p, r.UID, cfg.Stdio)
	}
	if err := userRaw(p, r, cfg.SetgroupsDenied); err != nil {
		return err
	}
	if err := hook(p, cfg.Raw.AfterUser); err != nil {
		return err
	}
	if _, err := chdirRaw(p, chdir.retry(), cwd, retry); err != nil {
		return err
	}
	if pr.User.Umask != nil {
		sysOp(p, umaskStep(*pr.User.Umask), unix.SYS_UMASK, uintptr(*pr.User.Umask))
	}
	if pr.NoNewPrivileges {
		sysOp(p, noNewPrivsStep(), unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	return hook(p, cfg.Raw.Last)
}

func hook(p *raw.Prog, f func(*raw.Prog) error) error {
	if f == nil {
		return nil
	}
	return f(p)
}

// sysOp is one call as one op, described by st.
func sysOp(p *raw.Prog, st step.Step, trap uintptr, args ...uintptr) int {
	return p.Sys(raw.Desc(st), trap, args...)
}

// ExecRaw appends execve(2) of the program whose path LookPathRaw left
// in register path, with argv args and environment env: the last op,
// which returns only on failure.
func ExecRaw(p *raw.Prog, path raw.Reg, args, env []string) error {
	argv, err := p.Strs(args)
	if err != nil {
		return errorf("process: args: %w", err)
	}
	envp, err := p.Strs(env)
	if err != nil {
		return errorf("process: env: %w", err)
	}
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	p.Add(raw.Op{Trap: unix.SYS_EXECVE, Args: [6]uintptr{0, argv, envp}, In: [6]raw.Reg{path}},
		raw.Desc(ExecStep(name, args, env)))
	return nil
}

// LookPathRaw appends the ops that find name as LookPath does, in the
// child's root, and returns the register that then holds a pointer to
// the path found. A name with a slash must exist, not be a directory and
// have an execute bit: a failure is LookPath's error. Otherwise each
// $PATH candidate in turn: faccessat(2) X_OK (run as root, which passes
// when any execute bit is set), then the same path with a trailing slash,
// which only a directory passes, to skip directories. None found fails
// with LookPath's "not found in $PATH" error (Prog.Errs). Errors carry
// the "process: " prefix Resolve adds.
func LookPathRaw(p *raw.Prog, name string, env []string) (raw.Reg, error) {
	reg := p.Reg()
	look := step.Step{Op: "lookup", Args: fmt.Sprintf("%q", name), Why: "the program, as the container's root shows it"}
	perr := func(err error) func(syscall.Errno) error {
		return func(syscall.Errno) error { return errorf("process: %w", err) }
	}
	statErr := func(e syscall.Errno) error {
		return errorf("process: %w", executableErr(name, &fs.PathError{Op: "stat", Path: name, Err: e}))
	}
	if strings.Contains(name, "/") {
		ptr, err := p.Str(name)
		if err != nil {
			return 0, errorf("process: executable: %w", err)
		}
		slash, err := p.Str(name + "/")
		if err != nil {
			return 0, errorf("process: executable: %w", err)
		}
		// A directory: "name/" resolves. ENOTDIR (a file) and ENOENT go
		// on to the X_OK check, which names the error.
		isDir := p.Add(raw.Op{Trap: unix.SYS_FACCESSAT, Args: [6]uintptr{atFDCWD, slash, unix.F_OK},
			Else: [2]syscall.Errno{unix.ENOTDIR, unix.ENOENT}}, look)
		p.SetErr(isDir, statErr)
		i := p.AddQuiet(raw.Op{Trap: raw.Fail, Args: [6]uintptr{uintptr(unix.EISDIR)}},
			step.Step{Op: "fail", Args: "EISDIR", Why: name + " is a directory"})
		p.SetErr(i, perr(executableErr(name, syscall.EISDIR)))
		p.JumpHere(isDir)
		i = p.AddQuiet(raw.Op{Trap: unix.SYS_FACCESSAT, Args: [6]uintptr{atFDCWD, ptr, unix.X_OK}},
			step.Step{Op: "faccessat", Args: fmt.Sprintf("%q, X_OK", name), Why: "an execute bit (root passes on any)"})
		p.SetErr(i, func(e syscall.Errno) error {
			if e == unix.EACCES {
				return errorf("process: %w", noExecuteErr(name))
			}
			return statErr(e)
		})
		p.AddQuiet(raw.Op{Trap: raw.Set, Args: [6]uintptr{ptr}, Out: reg}, step.Step{Op: "set", Args: fmt.Sprintf("path = %q", name)})
		return reg, nil
	}
	var found []int // Gotos to the end
	first := true
	for _, c := range pathCandidates(name, env) {
		ptr, err := p.Str(c)
		if err != nil {
			return 0, errorf("process: executable: %w", err)
		}
		slash, err := p.Str(c + "/")
		if err != nil {
			return 0, errorf("process: executable: %w", err)
		}
		o := raw.Op{Trap: unix.SYS_FACCESSAT, Args: [6]uintptr{atFDCWD, ptr, unix.X_OK},
			Else: [2]syscall.Errno{unix.ENOENT, unix.EACCES}}
		sub := step.Step{Op: "faccessat", Args: fmt.Sprintf("%q, X_OK", c), Why: "a candidate in $PATH"}
		var x int
		if first {
			x = p.Add(o, look)
			first = false
		} else {
			x = p.AddQuiet(o, sub)
		}
		dir := p.AddQuiet(raw.Op{Trap: unix.SYS_FACCESSAT, Args: [6]uintptr{atFDCWD, slash, unix.F_OK},
			Else: [2]syscall.Errno{unix.ENOTDIR}},
			step.Step{Op: "faccessat", Args: fmt.Sprintf("%q, F_OK", c+"/"), Why: "a directory is skipped"})
		next := p.AddQuiet(raw.Op{Trap: raw.Goto}, step.Step{Op: "goto", Why: "a directory: the next candidate"})
		p.JumpHere(dir)
		p.AddQuiet(raw.Op{Trap: raw.Set, Args: [6]uintptr{ptr}, Out: reg}, step.Step{Op: "set", Args: fmt.Sprintf("path = %q", c)})
		found = append(found, p.AddQuiet(raw.Op{Trap: raw.Goto}, step.Step{Op: "goto", Why: "found"}))
		p.JumpHere(x, next)
	}
	o := raw.Op{Trap: raw.Fail, Args: [6]uintptr{uintptr(unix.ENOENT)}}
	var i int
	if first { // PATH cannot be empty of candidates, but stay described
		i = p.Add(o, look)
	} else {
		i = p.AddQuiet(o, step.Step{Op: "fail", Args: "ENOENT", Why: "not found in $PATH"})
	}
	p.SetErr(i, perr(notInPathErr(name)))
	p.JumpHere(found...)
	return reg, nil
}

// utsRaw is sethostname(2) or setdomainname(2) of name.
func utsRaw(p *raw.Prog, st step.Step, trap uintptr, name string) error {
	ptr, err := p.Str(name)
	if err != nil {
		return errorf("process: %s: %w", st.Op, err)
	}
	sysOp(p, st, trap, ptr, uintptr(len(name)))
	return nil
}

// rlimitRaw is prlimit64(0, res, &new, NULL) for each limit, described as
// rlimitSteps. On EPERM the error names the hard limit the child had: the
// runtime's, which the child inherited.
func rlimitRaw(p *raw.Prog, rl []specs.POSIXRlimit) error {
	for i, st := range rlimitSteps(rl) {
		r := rl[i]
		res, _ := rlimitResource(r.Type)
		var old unix.Rlimit
		if err := unix.Prlimit(0, res, nil, &old); err != nil {
			return errorf("process: prlimit %s: %w", r.Type, err)
		}
		lim := &unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		p.Keep(lim)
		g := p.NewGroup(st)
		g.Sys(st, func(e syscall.Errno) error { return rlimitErr(old.Max, r, e) },
			unix.SYS_PRLIMIT64, 0, uintptr(res), uintptr(unsafe.Pointer(lim)), 0)
	}
	return nil
}

// Resolve flags of the procfs writes: procfs.OpenAt's (no symlink at
// all), or through the "self" and "thread-self" symlinks (not magic
// links) for files the child cannot name by its pid.
const (
	procBeneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS
	procViaSelf = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS
)

// procWriteRaw writes val to rel below the procfs mounted at proc with
// the checks of procfs.Write: proc opened O_PATH|O_NOFOLLOW and checked
// with fstatfs(2) to be a procfs, rel opened below it with openat2(2)
// (resolve), the file checked to be on a procfs too, then one write(2).
// The ops are one group described by st; a failed write is errf(errno)
// (nil: the errno).
func procWriteRaw(p *raw.Prog, st step.Step, proc, rel, val string, resolve uint64, errf func(syscall.Errno) error) error {
	procPtr, err := p.Str(proc)
	if err != nil {
		return errorf("process: %s: %w", st.Op, err)
	}
	relPtr, err := p.Str(rel)
	if err != nil {
		return errorf("process: %s: %w", st.Op, err)
	}
	name := strings.TrimSuffix(proc, "/") + "/" + rel
	how := &unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW, Resolve: resolve}
	p.Keep(how)
	sfs := new(unix.Statfs_t)
	p.Keep(sfs)
	dir, file := p.Reg(), p.Reg()
	g := p.NewGroup(st)
	g.Add(raw.Op{Trap: unix.SYS_OPENAT, Args: [6]uintptr{atFDCWD, procPtr, unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC}, Out: dir},
		step.Step{Op: "openat", Args: fmt.Sprintf("%q, O_PATH|O_DIRECTORY|O_NOFOLLOW", proc)},
		func(e syscall.Errno) error { return errorf("open %s: %w", proc, e) })
	procCheckRaw(g, dir, sfs, proc)
	g.Add(raw.Op{Trap: unix.SYS_OPENAT2, Args: [6]uintptr{0, relPtr, uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how)}, In: [6]raw.Reg{dir}, Out: file},
		step.Step{Op: "openat2", Args: fmt.Sprintf("%q, O_WRONLY, RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS", rel)},
		func(e syscall.Errno) error { return errorf("open %s: %w", name, e) })
	g.Add(raw.Op{Trap: unix.SYS_CLOSE, In: [6]raw.Reg{dir}}, step.Step{Op: "close", Args: proc}, nil)
	procCheckRaw(g, file, sfs, name)
	valPtr := p.Bytes([]byte(val))
	g.Add(raw.Op{Trap: unix.SYS_WRITE, Args: [6]uintptr{0, valPtr, uintptr(len(val))}, In: [6]raw.Reg{file}},
		step.Step{Op: "write", Args: fmt.Sprintf("%s, %q", name, val)}, errf)
	g.Add(raw.Op{Trap: unix.SYS_CLOSE, In: [6]raw.Reg{file}}, step.Step{Op: "close", Args: name}, nil)
	return nil
}

// procCheckRaw is procfs.Check of the fd in reg: fstatfs(2), then f_type
// must be PROC_SUPER_MAGIC.
func procCheckRaw(g *raw.Group, reg raw.Reg, sfs *unix.Statfs_t, name string) {
	trap, args := fstatfsCall(0, uintptr(unsafe.Pointer(sfs)), unsafe.Sizeof(*sfs))
	g.Add(raw.Op{Trap: trap, Args: args, In: [6]raw.Reg{reg}}, step.Step{Op: "fstatfs", Args: name},
		func(e syscall.Errno) error { return errorf("fstatfs %s: %w", name, e) })
	g.Add(raw.Op{Trap: raw.Eq, Ptr: unsafe.Pointer(&sfs.Type), Args: [6]uintptr{1: unix.PROC_SUPER_MAGIC, 2: uintptr(unix.EXDEV), 3: unsafe.Sizeof(sfs.Type)}},
		step.Step{Op: "check", Args: "f_type == PROC_SUPER_MAGIC"},
		func(syscall.Errno) error {
			return errorf("%s is not on a procfs (want PROC_SUPER_MAGIC %#x): refusing to write through it", name, unix.PROC_SUPER_MAGIC)
		})
}

// cloexecRaw is cloexecStep: close_range(2) CLOSE_RANGE_CLOEXEC on the
// gaps between the kept fds, then each kept fd's FD_CLOEXEC cleared.
// Marked, not closed: the runner's own fds (the status pipe, the exec
// FIFO) stay usable until execve closes them.
func cloexecRaw(p *raw.Prog, keep []int) {
	g := p.NewGroup(cloexecStep(keep))
	kept := map[int]bool{}
	for _, fd := range keep {
		kept[fd] = true
	}
	cr := func(first, last uint) {
		args := fmt.Sprintf("%d..%d, CLOSE_RANGE_CLOEXEC", first, last)
		if last == uint(^uint32(0)) {
			args = fmt.Sprintf("%d..~0, CLOSE_RANGE_CLOEXEC", first)
		}
		g.Sys(step.Step{Op: "close_range", Args: args}, nil, unix.SYS_CLOSE_RANGE, uintptr(first), uintptr(last), unix.CLOSE_RANGE_CLOEXEC)
	}
	first := 3
	for fd := 3; fd <= maxKept(kept); fd++ {
		if kept[fd] {
			if fd > first {
				cr(uint(first), uint(fd-1))
			}
			first = fd + 1
		}
	}
	cr(uint(first), uint(^uint32(0)))
	for _, fd := range keep {
		g.Sys(step.Step{Op: "fcntl", Args: fmt.Sprintf("%d, F_SETFD, 0", fd)},
			func(e syscall.Errno) error { return errorf("keep fd %d: %w", fd, e) },
			unix.SYS_FCNTL, uintptr(fd), unix.F_SETFD, 0)
	}
}

// chdirRaw is chdirState's step st: chdir(2), then getcwd(2), whose
// answer must start with '/' (CVE-2024-21626). The first (if is 0) turns
// EACCES and EPERM into a register set to 1, which it returns; the retry
// runs only if register if is set.
func chdirRaw(p *raw.Prog, st step.Step, path string, ifReg raw.Reg) (raw.Reg, error) {
	ptr, err := p.Str(path)
	if err != nil {
		return 0, errorf("process: cwd: %w", err)
	}
	cwd := make([]byte, unix.PathMax)
	p.Keep(cwd)
	buf := uintptr(unsafe.Pointer(&cwd[0]))
	g := p.NewGroup(st)
	o := raw.Op{Trap: unix.SYS_CHDIR, Args: [6]uintptr{ptr}, If: ifReg}
	if ifReg == 0 {
		o.Else = [2]syscall.Errno{unix.EACCES, unix.EPERM}
	}
	cd := g.Add(o, step.Step{}, nil)
	outside := func(e syscall.Errno) error { return outsideRootErr(path, e) }
	g.Add(raw.Op{Trap: unix.SYS_GETCWD, Args: [6]uintptr{buf, unix.PathMax}, If: ifReg},
		step.Step{Op: "getcwd", Why: "'/' first, or the cwd is outside the root (CVE-2024-21626)"}, outside)
	g.Add(raw.Op{Trap: raw.Eq, Ptr: unsafe.Pointer(&cwd[0]), Args: [6]uintptr{1: '/', 2: uintptr(unix.ENOENT), 3: 1}, If: ifReg},
		step.Step{Op: "check", Args: "cwd[0] == '/'"}, outside)
	if ifReg != 0 {
		return 0, nil
	}
	skip := p.AddQuiet(raw.Op{Trap: raw.Goto}, step.Step{Op: "goto", Why: "in the cwd"})
	p.JumpHere(cd)
	retry := p.Reg()
	p.AddQuiet(raw.Op{Trap: raw.Set, Args: [6]uintptr{1}, Out: retry}, step.Step{Op: "set", Args: "chdir again as the user"})
	p.JumpHere(skip)
	return retry, nil
}

// stdioOwnerRaw is stdioOwnerStep: fchown(fd, uid, -1) of each of 0, 1, 2
// that the Go step would change (-1 keeps the group, as the Go step's
// st_gid does); EINVAL and EPERM are ignored.
func stdioOwnerRaw(p *raw.Prog, uid uint32, files [3]StdioFile) {
	g := p.NewGroup(stdioOwnerStep(uid))
	var skips []int
	for fd, f := range files {
		if f.Known && (f.Closed || f.Null || f.UID == uid) {
			continue
		}
		i := g.Add(raw.Op{Trap: sysFchown, Args: [6]uintptr{uintptr(fd), uintptr(uid), uintptr(^uint32(0))},
			Else: [2]syscall.Errno{unix.EINVAL, unix.EPERM}},
			step.Step{Op: "fchown", Args: fmt.Sprintf("%d, %d, -1", fd, uid)},
			func(e syscall.Errno) error { return fchownErr(fd, uid, e) })
		skips = append(skips, i)
	}
	g.End()
	// A refused fchown goes on with the next fd: the Else jumps land on
	// the op after each.
	for _, i := range skips {
		p.Ops[i].Jump = int32(i + 1)
	}
}

// userRaw is userSteps, one op each: PR_SET_KEEPCAPS 1, setgroups,
// setresgid, setresuid, PR_SET_KEEPCAPS 0. Raw calls change the calling
// thread only, which is the child's only thread. With setgroups denied
// (and no groups asked for) the setgroups op is a no-op, as in the Go
// step.
func userRaw(p *raw.Prog, r *Resolved, setgroupsDenied bool) error {
	st := userSteps(r)
	sysOp(p, st[0], unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1, 0, 0, 0)
	if setgroupsDenied {
		p.Add(raw.Op{Trap: raw.Goto, Jump: p.Here() + 1}, raw.Desc(st[1]))
	} else {
		gids := make([]byte, 4*len(r.Groups))
		for i, g := range r.Groups {
			*(*uint32)(unsafe.Pointer(&gids[4*i])) = g
		}
		sysOp(p, st[1], sysSetgroups, uintptr(len(r.Groups)), p.Bytes(gids))
	}
	gid, uid := uintptr(r.GID), uintptr(r.UID)
	sysOp(p, st[2], sysSetresgid, gid, gid, gid)
	sysOp(p, st[3], sysSetresuid, uid, uid, uid)
	sysOp(p, st[4], unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 0, 0, 0, 0)
	return nil
}

// DefaultSignalsRaw is DefaultSignalsStep: rt_sigaction(2) SIG_DFL for
// every signal but SIGKILL and SIGSTOP, then an empty mask. The raw
// child's handlers are SIG_DFL already but for those the runtime kept at
// SIG_IGN (it resets its own after fork), so setting each to SIG_DFL
// ends where the Go step ends, without reading them first.
func DefaultSignalsRaw(p *raw.Prog) {
	g := p.NewGroup(DefaultSignalsStep())
	dfl := p.Bytes(make([]byte, 64)) // all zeros: SIG_DFL, no flags, empty mask
	for s := 1; s <= 64; s++ {
		if s == int(unix.SIGKILL) || s == int(unix.SIGSTOP) {
			continue
		}
		g.Sys(step.Step{Op: "rt_sigaction", Args: fmt.Sprintf("%d, SIG_DFL", s)},
			func(e syscall.Errno) error { return errorf("signal %d: %w", s, e) },
			unix.SYS_RT_SIGACTION, uintptr(s), dfl, 0, 8) // the kernel's sigset_t: 64 bits
	}
	g.Sys(step.Step{Op: "rt_sigprocmask", Args: "SIG_SETMASK, {}"}, nil,
		unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, p.Bytes(make([]byte, 8)), 0, 8)
}

// haveCloseRangeCloexec: the kernel has close_range(2) with
// CLOSE_RANGE_CLOEXEC (5.11). Probed on an empty range (first == last
// above any fd: nothing to do), which older kernels refuse with ENOSYS
// (before 5.9) or EINVAL (the flag, before 5.11).
var haveCloseRangeCloexec = sync.OnceValue(func() bool {
	top := uintptr(^uint32(0))
	_, _, e := unix.RawSyscall(unix.SYS_CLOSE_RANGE, top, top, unix.CLOSE_RANGE_CLOEXEC)
	return e == 0
})

// haveOpenat2: the kernel has openat2(2) (5.6), probed on "/".
var haveOpenat2 = sync.OnceValue(func() bool {
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
})

// atFDCWD is AT_FDCWD as a system call's word.
const atFDCWD = ^uintptr(99) // -100
