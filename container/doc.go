// Package container is the OCI lifecycle (runtime.md): create, start,
// state, kill, delete, and the operations runc adds (exec, pause, resume,
// update, events, ps, list). It composes the kernel packages
// (namespaces, rootfs, caps, cgroups, seccomp, process) and keeps each
// container's state on disk under a root directory, one directory per ID.
//
// # One plan
//
// NewPlan compiles config.json and create's flags, once, in the runtime,
// into a Plan: the rootfs.Config (sysctls as its ProcWrites), the
// capability sets, the seccomp program, the process.Config, the hooks,
// the cgroup and the init's fds, each validated. It is the only validator
// of create, so a bad config fails before anything exists. The init
// receives the plan's init side and only turns its parts into steps; it
// reads no config.json and validates nothing again. `create --dry-run`
// (Root.DryRun) prints the same steps without running them.
//
// # Create without an init (init_raw.go, spawn_raw.go)
//
// Where no step needs Go (Plan.needsGoInit, or a part's raw builder
// returning raw.NeedsGo), rawInitProg compiles the plan once more, in the
// runtime, into a raw.Prog: the same steps as the init's, in the same
// order, as system calls whose arguments are all computed before the
// fork. The child namespaces.Start forks runs it after its namespace ops:
// it joins its cgroup, makes the cgroup namespace, stops (raw.Ask) while
// the runtime runs the prestart and createRuntime hooks with its pid,
// makes the keyring, the root filesystem and the process, clears its
// parent-death signal and reports Done on the status pipe (create
// records the container and exits). Then it executes the sealed exec
// trampoline (exeseal.Trampoline): every fd of the runtime's it
// inherited is close-on-exec and gone, /proc/self/exe names the
// trampoline, which blocks on the exec FIFO until `start`, writes "0" and
// executes the program. A failure before Done is create's error, named by
// the op's step; the trampoline's failed execve is written to the FIFO
// and `start` reports it in the Go init's words. There are no messages:
// the plan is in the child's copy of the runtime's memory. Exec's program
// is the same without Done, its trampoline writing to a pipe instead of
// the FIFO (awaitTrampoline).
//
// # Create and its init
//
// The runtime starts the init (this binary, run from a sealed copy,
// selfexe.go) with one raw fork into the container's namespaces
// (package namespaces). The two then talk over a SOCK_STREAM socket pair,
// in length-prefixed JSON messages (initmsg.go), in this order:
//
//  1. runtime → init: the config (initConfig: the plan, the fd layout),
//     then one message per bind-mount source the runtime opened for a
//     user namespace (mountsrc.go). The init waits for it before anything:
//     it knows nothing else.
//  2. runtime → init: "placed", once the init is in the container's
//     cgroup (or at once when it was born there, clone3
//     CLONE_INTO_CGROUP). Nothing the container runs may escape its
//     limits, so the init waits for it before it sets up the process. It
//     waits before anything else when what comes first needs the cgroup:
//     a cgroup namespace (its root is the cgroup the init is in when it
//     makes it), a cgroup mount (it shows that root) or hooks (they, and
//     what they fork, belong in the container's cgroup). Otherwise it
//     mounts the root filesystem while the runtime writes cgroup.procs,
//     which on cgroup v1 may wait for an RCU grace period.
//  3. init → runtime: "hooks", when there are prestart or createRuntime
//     hooks: they run in the runtime's namespaces (config.md), so the
//     runtime runs them, with the init's pid in the state.
//     runtime → init: "go" when they succeeded (or "error", and create
//     fails). Then the init runs the createContainer hooks itself, in the
//     container's namespaces, before the root changes.
//  4. init → runtime: "seccomp" with the listener fd, when the profile has
//     a listenerPath; the runtime passes it to the agent and answers
//     "seccomp-done". The filter is loaded late, so this comes after the
//     process's own setup.
//  5. init → runtime: "ready", the last step before the exec FIFO: the
//     container is set up, create records it as created and exits. The
//     init cleared its parent-death signal first: from here it outlives
//     the runtime. Any failure before it comes back as "error" with the
//     init's message, and create removes everything it made.
//  6. The init opens the exec FIFO for writing, which blocks until
//     `start` opens it for reading (fifo(7)); it writes one byte, runs
//     the startContainer hooks, and execs the program. execve closes the
//     FIFO's write end (close-on-exec), so `start` reads EOF exactly when
//     the program runs, or the init's error if it failed.
//
// Exec uses the same socket and messages but no FIFO: the init sends
// "ready", then execs; its end of the socket is close-on-exec, so the
// runtime reads EOF once the program runs, or an error.
package container
