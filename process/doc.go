// Package process sets up the process a container runs, the last stage
// before execve(2): hostname, sysctl, rlimits, oom_score_adj, user and
// groups, umask, cwd, environment, no_new_privs, the file descriptors it
// keeps, and the calls into caps and seccomp at the right moment.
//
// Steps turns a Config into that stage as ordered []step.Step, in runc's
// order (libcontainer/standard_init_linux.go, finalizeNamespace in
// init_linux.go):
//
//	sethostname, setdomainname   needs CAP_SYS_ADMIN over the new UTS ns
//	write /proc/sys/...          sysctls of the container's own namespaces
//	prlimit(0, ...)              raising a hard limit needs CAP_SYS_RESOURCE
//	write oom_score_adj          lowering it needs CAP_SYS_RESOURCE
//	fcntl(FD_CLOEXEC) on fds>=3  nothing of ours leaks into the program
//	chdir(cwd)                   as root first: the user may not search it
//	Config.BeforeUser            caps: drop the bounding set (needs CAP_SETPCAP)
//	prctl(PR_SET_KEEPCAPS, 1)    keep permitted caps across setuid
//	setgroups, setgid, setuid    the user change; gid before uid (after setuid
//	                             we could no longer change groups)
//	prctl(PR_SET_KEEPCAPS, 0)
//	Config.AfterUser             caps: set the final sets (and ambient)
//	umask
//	prctl(PR_SET_NO_NEW_PRIVS, 1)
//	Config.Last                  seccomp: load the filter
//	execve
//
// Why this order:
//   - Everything that needs privilege (hostname, sysctl, raising rlimits,
//     lowering oom_score_adj, dropping the bounding set) runs while we are
//     still root with every capability.
//   - The bounding set is dropped before setuid: PR_CAPBSET_DROP needs
//     CAP_SETPCAP in the effective set, which setuid to a non-zero uid
//     clears (capabilities(7), "Effect of user ID changes").
//   - PR_SET_KEEPCAPS around setuid keeps the permitted set so AfterUser
//     can raise the capabilities the container is given; without it a
//     non-root user would start with none, whatever the config says.
//   - no_new_privs comes before seccomp because an unprivileged thread may
//     only install a filter with no_new_privs set (seccomp(2), EACCES),
//     and once the user change dropped CAP_SYS_ADMIN that is the only way.
//   - seccomp is last, right before execve, so the filter only has to
//     allow what the program needs, not what this setup code calls. (runc
//     loads it before the user change when no_new_privs is off; put the
//     seccomp step in BeforeUser for that case.)
//
// Precondition: all of it is per-thread. Capabilities, PR_SET_KEEPCAPS,
// no_new_privs and the seccomp filter belong to the calling thread, and
// execve keeps only the calling thread. The caller must hold
// runtime.LockOSThread from the first step to execve. (setuid, setgid and
// setgroups go through Go's AllThreadsSyscall, so no thread of this
// process keeps root, as POSIX wants; cgo must be off, which it is.)
//
// # Without a second Go runtime
//
// RawSteps builds the same stage as a raw.Prog, the ops a raw-forked
// child runs with no Go runtime (package raw): the runtime resolves the
// user and the environment before the fork (ResolveForRaw, from the
// rootfs's files, read in-root), fstat's the stdio it passes
// (StatStdio), and the child does the rest with one system call per
// step, or a group of them described by the Go step (the --explain lines
// and the error texts are the Go steps'). The program is looked up by
// the child after pivot_root (LookPathRaw) and executed by ExecRaw;
// caps.Set.BoundingRaw/ApplyRaw and seccomp.LoadRaw plug into
// Config.Raw as the Go steps plug into BeforeUser, AfterUser and Last.
// Where they differ from the Go steps:
//
//   - oom_score_adj and the LSM attr files are written through
//     /proc/self and /proc/thread-self (the child cannot put its pid in
//     a path): symlinks, not magic links, so RESOLVE_NO_MAGICLINKS holds;
//     the procfs checks are the same;
//   - a $PATH candidate is tested with faccessat(2) X_OK as root (any
//     execute bit, and not on a noexec mount: such a file is skipped,
//     where LookPath picks it and execve fails) and skipped if it is a
//     directory; a device or FIFO with an execute bit is not skipped;
//   - all signals are set to SIG_DFL without reading them first (the
//     child's handlers are already SIG_DFL or SIG_IGN);
//   - the session keyring gets the new keyring's mask plus search, not
//     its current mask plus search (KEYCTL_DESCRIBE is text);
//   - setgroups(2) denied must be said (Config.SetgroupsDenied): with
//     supplementary groups that is a *raw.NeedsGo, the Go init's error.
package process
