// Package caps names, decodes, reads and sets Linux capabilities
// (capabilities(7)): the root privilege split into about 40 bits, held by
// each thread in five sets.
//
//   - bounding: the ceiling; execve(2) can never grant a capability outside
//     it. It only shrinks (prctl PR_CAPBSET_DROP, needs CAP_SETPCAP).
//   - permitted: what the thread may make effective.
//   - effective: what the kernel checks on each privileged operation.
//   - inheritable: what may pass through execve(2) to a program whose file
//     inheritable set also has it (file capabilities, setcap(8)).
//   - ambient: what passes through execve(2) of an ordinary program even
//     for a non-root user; each must be in permitted and inheritable.
//
// /proc/PID/status shows them as 64-bit hex masks (CapInh, CapPrm, CapEff,
// CapBnd, CapAmb), bit N being capability number N of
// linux/capability.h.
//
// A container's sets come from the OCI process.capabilities object
// (specs.LinuxCapabilities); FromSpec validates it into a Set, whose steps
// apply it in runc's order:
//
//	set.BoundingSteps()       PR_CAPBSET_DROP each capability not in bounding
//	(process package)         PR_SET_KEEPCAPS 1; setgroups, setgid, setuid; PR_SET_KEEPCAPS 0
//	set.ApplySteps()          capset(effective, permitted, inheritable); ambient
//	process.ExecStep          execve
//
// Every capability call acts on the calling thread only: the goroutine
// must be locked to its OS thread (runtime.LockOSThread) from the first
// step to the execve, which must run on that same thread.
package caps
