package process

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/step"
)

func sethostnameStep(name string) step.Step {
	return step.Step{
		Op:   "sethostname",
		Args: fmt.Sprintf("%q", name),
		Why:  "the name uname(2) reports, in this UTS namespace only",
		Do:   func() error { return unix.Sethostname([]byte(name)) },
	}
}

func setdomainnameStep(name string) step.Step {
	return step.Step{
		Op:   "setdomainname",
		Args: fmt.Sprintf("%q", name),
		Why:  "the NIS domain name, in this UTS namespace only",
		Do:   func() error { return unix.Setdomainname([]byte(name)) },
	}
}

// oomScoreAdjStep writes /proc/PID/oom_score_adj (proc(5)): the OOM
// killer's bias for this process and what it execs or forks. Raising it
// is free; lowering it below what it was needs CAP_SYS_RESOURCE.
func oomScoreAdjStep(proc string, v int) step.Step {
	return oomScoreAdjStepAt(proc, strconv.Itoa(os.Getpid())+"/oom_score_adj", v) // not "self": a symlink
}

func oomScoreAdjStepAt(proc, rel string, v int) step.Step {
	return step.Step{
		Op:   "write " + proc + "/" + rel,
		Args: strconv.Itoa(v),
		Why:  "OOM killer bias: -1000 never, 1000 first",
		Do: func() error {
			old, _ := procfs.Read(proc, rel)
			return oomScoreAdjErr(old, v, procfs.Write(proc, rel, strconv.Itoa(v)))
		},
		ReadBack: func() (string, error) { return procfs.Read(proc, rel) },
	}
}

// oomScoreAdjErr explains err, the failed write of v over old.
func oomScoreAdjErr(old string, v int, err error) error {
	if n, perr := strconv.Atoi(old); errors.Is(err, unix.EACCES) && perr == nil && v < n {
		return errorf("lowering oom_score_adj from %d to %d needs CAP_SYS_RESOURCE, which this process lacks: %w", n, v, err)
	}
	return err
}

// cloexecStep marks every fd from 3 up close-on-exec, except keep, and
// clears the flag on keep. Marking instead of closing (runc's
// CloseExecFrom) leaves the Go runtime's own fds working until execve.
func cloexecStep(keep []int) step.Step {
	args := "3..~0, CLOSE_RANGE_CLOEXEC"
	if len(keep) > 0 {
		args += fmt.Sprintf(", keeping %v", keep)
	}
	return step.Step{
		Op:   "close_range",
		Args: args,
		Why:  "no fd of ours leaks into the program, only the ones it is given",
		Do:   func() error { return markCloexec(keep) },
	}
}

func markCloexec(keep []int) error {
	kept := map[int]bool{}
	for _, fd := range keep {
		kept[fd] = true
	}
	if err := closeRangeCloexec(kept); err != nil {
		if err := cloexecByProc(kept); err != nil {
			return err
		}
	}
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return errorf("keep fd %d: %w", fd, err)
		}
	}
	return nil
}

// closeRangeCloexec uses close_range(2) (Linux 5.11) on the gaps between
// the kept fds.
func closeRangeCloexec(kept map[int]bool) error {
	first := 3
	for fd := 3; fd <= maxKept(kept); fd++ {
		if kept[fd] {
			if fd > first {
				if err := unix.CloseRange(uint(first), uint(fd-1), unix.CLOSE_RANGE_CLOEXEC); err != nil {
					return err
				}
			}
			first = fd + 1
		}
	}
	return unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
}

func maxKept(kept map[int]bool) int {
	m := 0
	for fd := range kept {
		m = max(m, fd)
	}
	return m
}

// cloexecByProc is the fallback: list /proc/self/fd and mark each one.
func cloexecByProc(kept map[int]bool) error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return errorf("read /proc/self/fd: %w", err)
	}
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 3 || kept[fd] || fd == int(d.Fd()) {
			continue
		}
		unix.CloseOnExec(fd) // EBADF if it closed meanwhile: nothing to do
	}
	return nil
}

// chdirState runs chdir twice, as runc does: first as root (a directory
// only root may search still works), then, if that was refused, again
// after the user change (a directory only the user may search).
type chdirState struct {
	path string
	done bool
}

func (c *chdirState) first() step.Step {
	return step.Step{
		Op:   "chdir",
		Args: fmt.Sprintf("%q", c.path),
		Why:  "the program's working directory, inside the new root",
		Do: func() error {
			err := chdirInRoot(c.path)
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				return nil // try again as the user
			}
			c.done = err == nil
			return err
		},
	}
}

func (c *chdirState) retry() step.Step {
	return step.Step{
		Op:   "chdir",
		Args: fmt.Sprintf("%q", c.path),
		Why:  "again as the user, only if root was refused",
		Do: func() error {
			if c.done {
				return nil
			}
			return chdirInRoot(c.path)
		},
	}
}

// chdirInRoot is chdir(2) then getcwd(2). A path through a magic link
// (/proc/self/fd/N of a directory opened before the pivot) can land
// outside the root; getcwd(2) then answers "(unreachable)/..." and
// unix.Getwd ENOENT: refuse it rather than start the program there
// (CVE-2024-21626).
func chdirInRoot(path string) error {
	if err := unix.Chdir(path); err != nil {
		return err
	}
	if _, err := unix.Getwd(); err != nil {
		return outsideRootErr(path, err)
	}
	return nil
}

func outsideRootErr(path string, err error) error {
	return errorf("cwd %q is outside the root directory: %w", path, err)
}

// stdioOwnerStep is runc's fixStdioPermissions: fchown(2) of fds 0, 1
// and 2 to uid, their group kept (a devpts mounted with gid=5 gives the
// pty its tty group). The fd, not a path: the inode we hold is the one
// changed. Skipped: fds owned by uid already, /dev/null (char 1:3), a
// closed fd; EINVAL and EPERM (an owner or group not mapped in our user
// namespace) are ignored, as runc does.
func stdioOwnerStep(uid uint32) step.Step {
	return step.Step{
		Op:   "fchown",
		Args: fmt.Sprintf("0, 1, 2 to uid %d", uid),
		Why:  "the program's terminal (or pipes) belong to the user it runs as (runc's fixStdioPermissions)",
		Do: func() error {
			for fd := 0; fd < 3; fd++ {
				var st unix.Stat_t
				if err := unix.Fstat(fd, &st); err != nil {
					if errors.Is(err, unix.EBADF) {
						continue
					}
					return errorf("fstat fd %d: %w", fd, err)
				}
				null := st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)
				if st.Uid == uid || null {
					continue
				}
				err := unix.Fchown(fd, int(uid), int(st.Gid))
				if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
					return fchownErr(fd, uid, err)
				}
			}
			return nil
		},
	}
}

func fchownErr(fd int, uid uint32, err error) error {
	return errorf("fchown fd %d to uid %d: %w", fd, uid, err)
}

// userSteps change the credentials: groups, then gid, then uid, since
// after setuid to a non-root user setgroups and setgid are refused.
// PR_SET_KEEPCAPS around it keeps the permitted set for caps.ApplySteps.
func userSteps(r *Resolved) []step.Step {
	groups := make([]int, len(r.Groups))
	for i, g := range r.Groups {
		groups[i] = int(g)
	}
	return []step.Step{
		{
			Op: "prctl", Args: "PR_SET_KEEPCAPS, 1",
			Why: "keep the permitted capabilities across setuid (this thread)",
			Do:  func() error { return unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0) },
		},
		{
			Op: "setgroups", Args: fmt.Sprint(groups),
			Why: "supplementary groups; none of the host's root groups stay",
			Do: func() error {
				// A user namespace made by an unprivileged user has
				// setgroups(2) denied (user_namespaces(7)): no groups
				// can be dropped or added there, as in runc 1.1.
				if d, err := os.ReadFile("/proc/self/setgroups"); err == nil && strings.TrimSpace(string(d)) == "deny" {
					if len(groups) > 0 {
						return setgroupsDeniedErr(groups)
					}
					return nil
				}
				return unix.Setgroups(groups)
			},
		},
		{
			Op: "setresgid", Args: strconv.FormatUint(uint64(r.GID), 10),
			Why: "real, effective and saved gid, before uid: a non-root uid may not change it",
			Do:  func() error { return setresgid(r.GID) },
		},
		{
			Op: "setresuid", Args: strconv.FormatUint(uint64(r.UID), 10),
			Why: "real, effective and saved uid; to non-zero it empties the effective caps",
			Do:  func() error { return setresuid(r.UID) },
		},
		{
			Op: "prctl", Args: "PR_SET_KEEPCAPS, 0",
			Why: "back to the default, so execve recomputes capabilities normally",
			Do:  func() error { return unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0) },
		},
	}
}

func setgroupsDeniedErr(groups []int) error {
	return errorf("supplementary groups %v: setgroups(2) is denied in this user namespace (a rootless container)", groups)
}

func umaskStep(mask uint32) step.Step {
	return step.Step{
		Op:   "umask",
		Args: fmt.Sprintf("%#o", mask),
		Why:  "permission bits taken away from each file the program creates",
		Do:   func() error { unix.Umask(int(mask)); return nil },
	}
}

// noNewPrivsStep sets PR_SET_NO_NEW_PRIVS (prctl(2)): from here on,
// execve never grants privileges (setuid bits, file capabilities), and an
// unprivileged thread may install a seccomp filter.
func noNewPrivsStep() step.Step {
	return step.Step{
		Op:   "prctl",
		Args: "PR_SET_NO_NEW_PRIVS, 1",
		Why:  "setuid binaries and file caps grant nothing; lets seccomp load without CAP_SYS_ADMIN",
		Do:   func() error { return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
		ReadBack: func() (string, error) {
			v, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
			return "no_new_privs=" + strconv.Itoa(v), err
		},
	}
}

// OwnNamespaces lists the namespaces the calling process has apart from
// the host's, for Config.Namespaces when someone else (ctr-lite ns,
// unshare) put it in them. The host's are PID 1's, the way runc tells a
// joined namespace from the host's. When PID 1's /proc/1/ns may not be
// read (the ptrace access check of proc(5): PID 1 may hold capabilities
// we lack), the parent's are used instead: right under "ctr-lite ns", too
// cautious (never too lax) under a shell that is itself in the namespace.
func OwnNamespaces(proc string) ([]specs.LinuxNamespace, error) {
	ref := proc + "/1/ns/"
	if _, err := os.Readlink(ref + "user"); errors.Is(err, os.ErrPermission) {
		ref = fmt.Sprintf("%s/%d/ns/", proc, os.Getppid())
	}
	var out []specs.LinuxNamespace
	for _, t := range []struct {
		file string
		typ  specs.LinuxNamespaceType
	}{
		{"ipc", specs.IPCNamespace}, {"net", specs.NetworkNamespace}, {"uts", specs.UTSNamespace},
		{"mnt", specs.MountNamespace}, {"pid", specs.PIDNamespace}, {"user", specs.UserNamespace},
		{"cgroup", specs.CgroupNamespace}, {"time", specs.TimeNamespace},
	} {
		self, err := os.Readlink(proc + "/self/ns/" + t.file)
		if err != nil {
			continue // the kernel lacks this kind
		}
		host, err := os.Readlink(ref + t.file)
		if err != nil {
			return nil, errorf("read %s%s to compare: %w", ref, t.file, err)
		}
		if host != self {
			out = append(out, specs.LinuxNamespace{Type: t.typ, Path: proc + "/self/ns/" + t.file})
		}
	}
	return out, nil
}
