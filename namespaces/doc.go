// Package namespaces names the eight kinds of Linux namespace, shows which
// ones a process is in, and starts a program in new and/or joined
// namespaces (namespaces(7), clone(2), unshare(2), setns(2)).
//
// # Which namespaces a process is in
//
// Each process has one file per kind in /proc/PID/ns. Two processes share
// a namespace exactly when stat(2) gives the same inode for their files;
// readlink(2) shows it as "net:[4026531840]". Show lists them.
//
// # Starting a process: why a raw fork
//
// Start takes a Config shaped like the OCI spec (linux.namespaces with
// Path empty = new, set = join; uid/gid mappings) and an exec.Cmd-like
// command, and does, in this order (as runc's nsexec does):
//
//  1. join the user namespace (first: it grants the capabilities the
//     other joins and the new namespaces are checked against);
//  2. join the other namespaces (mount last);
//  3. unshare(2) the new ones in one call (a new user namespace is made
//     first by the kernel and owns the others);
//  4. the parent writes /proc/PID/uid_map and gid_map;
//  5. setresgid/setresuid to 0 of the user namespace, sethostname, chdir;
//  6. if the PID namespace changed or the time namespace is new, fork
//     once more: setns and unshare of a PID namespace, and unshare of a
//     time namespace, only choose where the caller's children are born
//     (pid_for_children, time_for_children). Recent kernels also move the
//     caller into its new time namespace at execve, 6.1 does not; the
//     fork gives the same result on every kernel;
//  7. execve.
//
// The Go runtime is multithreaded, and three of these steps are refused to
// a thread that shares things with others:
//
//   - setns(CLONE_NEWUSER) fails with EINVAL in a multithreaded process
//     (userns_install: "thread_group_empty" and fs_struct users == 1);
//   - setns(CLONE_NEWTIME) fails with EUSERS likewise (timens_install);
//   - setns(CLONE_NEWNS) fails with EINVAL unless the thread has its own
//     fs_struct (mntns_install), which unshare(CLONE_FS) would give it.
//
// The alternative considered first: a goroutine that locks its OS thread
// for good, unshare(CLONE_FS), setns each file, then os/exec with
// SysProcAttr.Cloneflags for the new kinds (the clone inherits the thread's
// namespaces). It handles joins of net, uts, ipc, pid, cgroup and mnt, but
// not user or time joins, not "join user, then create the rest inside
// it", and has no hook to call sethostname(2) between clone and execve.
//
// So Start forks a child itself (fork_linux.go): clone(SIGCHLD) without
// CLONE_VM, between the runtime's fork hooks (syscall.runtime_BeforeFork,
// runtime_AfterFork, runtime_AfterForkInChild, reached with go:linkname;
// the runtime keeps them for gVisor). The child is a copy of the calling
// thread only: single-threaded, with its own fs_struct, so every setns is
// allowed. It may not allocate, lock or grow its stack, so the parent
// prepares everything as a list of raw system calls (numbers and words:
// file descriptors, pointers to C strings it keeps alive) and the child
// runs the list with syscall.RawSyscall6, reporting failures (op index and
// errno) on a close-on-exec status pipe. A second pipe carries the
// parent's go-ahead once the ID maps are written. For a PID namespace or
// a new time namespace the child forks again with CLONE_PARENT, so the
// final process is the caller's child (Wait works), PID 1 of a new PID
// namespace and inside the new time namespace; the intermediate one
// reports its pid and exits.
//
// Every step is a step.Step: with an explaining Runner the parent prints
// each one, the child's included, before it happens.
package namespaces
