// Package exeseal gives the runtime a copy of its own binary that the
// container's processes cannot write through, against CVE-2019-5736 (as
// runc's libcontainer/exeseal).
//
// Why a sealed copy of ourselves: the container's init and
// every exec start as this binary, re-executed inside the container's
// namespaces. While it runs there, a process in the container can open
// /proc/PID/exe, keep the fd, and once no one executes the binary any more
// (ETXTBSY is gone) reopen it for writing through /proc/self/fd/N: it then
// writes the runtime binary on the host, which root runs next. So the child
// must not execute the host's file itself, but one that cannot be opened
// for writing by anyone.
//
// runc 1.2 (libcontainer/exeseal) does it with no copy: a private
// overlayfs whose only layers are the binary's directory and an empty
// one. An overlay without an upper layer is read-only for good, and the
// mount is detached (fsmount(2) without move_mount(2)): nothing in any
// mount table can be remounted read-write, and /proc/PID/exe leads to the
// overlay's file, never to the one below. Where overlayfs or the new mount
// API is missing (or we lack CAP_SYS_ADMIN), a memfd copy sealed against
// writes (memfd_create(2), fcntl(2) F_ADD_SEALS) does the same at the
// price of a copy.
package exeseal
