// Package rootfs makes a directory the root of a process, the way an OCI
// runtime does (config.md "root", "mounts"; config-linux.md
// "rootfsPropagation", "maskedPaths", "readonlyPaths", "devices").
//
// Steps turns a Config into the ordered kernel steps:
//
//  1. statfs /proc/thread-self/fd: it must be a real procfs (see Security);
//     open the host's /dev/null if paths are to be masked.
//  2. mount("", "/", rootfsPropagation), MS_SLAVE|MS_REC by default (as
//     runc): the host's later mounts reach the container's binds of shared
//     host directories, the container's never reach the host except under
//     a bind made shared (rshared with rootfsPropagation rshared).
//  3. make the mount holding the rootfs private and bind the rootfs onto
//     itself: pivot_root(2) needs a mount point whose parent is not shared.
//  4. each config mount in order (proc, sysfs, tmpfs, devpts, mqueue,
//     cgroup2, bind/rbind; a bind from Config.MountSources' handle when
//     given), then for a bind the MS_REMOUNT|MS_BIND that applies
//     ro/nosuid/..., then its propagation changes, then the recursive
//     options (rro, rnosuid, ...) with mount_setattr(2) AT_RECURSIVE.
//     A read-only tmpfs, and any read-only non-bind mount with something
//     made below it later, is mounted read-write and pinned by fd.
//  5. the minimal /dev (Config.SetupDev): mknod null, zero, full, random,
//     urandom, tty and Config.Devices (bound from the host where mknod is
//     not allowed, as in a user namespace), the links fd, stdin, stdout,
//     stderr, ptmx -> pts/ptmx. /dev/console is bound after the pivot, on
//     the new root, by ConsoleStep (the container's init, for a terminal).
//  6. masked paths, readonly paths.
//  7. pivot_root(".", ".") and umount2(".", MNT_DETACH) of the old root
//     stacked on top, or (NoPivot) MS_MOVE onto "/" and chroot(".");
//     then chdir("/").
//  8. rootfsPropagation on the new "/".
//  9. Config.BeforeFinal (the container's console), then runc's
//     finalizeRootfs: the pinned mounts of step 4 made read-only, then
//     the root (root.readonly), each with mount_setattr(2) on its fd.
//
// runc masks and remounts after the pivot; here step 6 comes before it, so
// that /dev/null and /proc/thread-self are the host's, opened and checked
// by us, never a path the rootfs's own mounts could have replaced. The
// result is the same mount tree.
//
// # Security
//
// Every path inside the rootfs is resolved inside it: ".." and symlinks
// are followed as if the rootfs were "/" (openat2(2) RESOLVE_IN_ROOT via
// github.com/cyphar/filepath-securejoin/pathrs-lite), directories are
// created one component at a time by fd (CVE-2024-45310), and a mount
// target is opened O_PATH, checked, and mounted on as
// /proc/thread-self/fd/N, so a symlink swapped in after the check cannot
// redirect the mount (CVE-2021-30465). A masked file gets the host's
// /dev/null, opened by us and checked to be char 1:3 (CVE-2025-31133).
//
// After the pivot, /proc is whatever the container mounted there. Code
// that writes to /proc later (sysctl, oom_score_adj, LSM attributes) must
// check that the file it opened is on a real procfs (package procfs), or
// a container could redirect the write (CVE-2025-52881).
//
// # Without the Go runtime
//
// RawSteps appends the same steps, as system calls, to a raw.Prog that
// the forked child of package namespaces runs with no Go runtime: the
// kernel result is the one of the Go steps (a differential test compares
// the two containers' mount tables, /dev, masked and read-only paths and
// sysctls). What the parent can know is decided before the fork (a bind
// source is a file or a directory, where the rootfs's mount is, the
// cgroup groups to bind); what only the child can see is an errno
// branch (a masked path missing: skipped; a directory: a tmpfs, else
// /dev/null; a node there already: checked). Filesystems are made with
// fsopen(2)/fsmount(2) and binds with open_tree(2), attached with
// move_mount(2) onto targets opened in-root, and changed with
// mount_setattr(2): no /proc/thread-self/fd path is formatted in the
// child. A config it cannot do (tmpcopyup, mount fds, the console, a
// filesystem type or flag it does not know, cgroup v1 without the
// container's CgroupView) gets a *raw.NeedsGo and the Go init.
//
// # Preconditions
//
// The caller runs the steps on one goroutine locked to its OS thread
// (runtime.LockOSThread) that is already in a private mount namespace
// (UnshareStep: unshare(CLONE_NEWNS), which implies CLONE_FS, so the
// mounts, the pivot and the chdir affect only that thread), and ends with
// process.ExecStep on the same thread. Nothing is undone on failure: the
// namespace goes away with the process, and with it every mount.
package rootfs
