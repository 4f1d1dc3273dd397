// Package seccomp compiles an OCI seccomp profile (config.json
// "linux.seccomp", specs.LinuxSeccomp) to a classic BPF program and loads
// it with seccomp(2), in pure Go: no libseccomp, no cgo.
//
// The kernel runs the program on every syscall of the thread that loaded
// it (and of its children, across execve) over a struct seccomp_data
// {nr, arch, instruction_pointer, args[6]} and does what the returned
// SECCOMP_RET_* value says: allow, fail with an errno, kill, trap, log,
// or hand the call to a tracer.
//
// The program has the layout libseccomp gives it:
//
//  1. load seccomp_data.arch; an ABI the profile does not list (nor the
//     native one, always accepted) returns BadArchAction (KILL_PROCESS).
//     x32 calls arrive as AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT in nr:
//     they are split off and refused unless SCMP_ARCH_X32 is listed.
//  2. per ABI: load nr; syscalls with plain rules are one "jeq" each,
//     sharing a "ret" per action; syscalls with argument rules get a
//     block where each rule compares 64-bit arguments as two 32-bit
//     words (high first) and returns its action when all its conditions
//     hold (conditions of one rule AND, rules OR, first match wins; a
//     rule without arguments for the same syscall applies after them).
//     As runc does (libcontainer/seccomp matchCall, its "old behavior"
//     kept for compatibility), a rule with two or more conditions on the
//     same argument index is split into one rule per condition, all of
//     them, which then OR. So {index 0 >= 10, index 0 <= 20} matches
//     every value, not the range 10-20, while {index 0 == 1, index 1 == 2}
//     (distinct indexes) still needs both.
//  3. the default action.
//
// Before the rules of an ABI, when the default action refuses calls (not
// ALLOW, LOG or TRACE, nor already ERRNO(ENOSYS)), a syscall numbered
// above the highest one the profile names on that ABI returns ENOSYS:
// a program calling a syscall newer than the profile (clone3, statx,
// close_range...) falls back to an older call instead of failing with
// EPERM or being killed. This is runc's stub (libcontainer/seccomp/
// patchbpf, since 1.0.2), with its rules: x86_64 and x32 numbers are
// told apart by the x32 bit, s390x's syscall 0 (the multiplexer of
// numbers unknown to the kernel) also returns ENOSYS, and every syscall
// the profile names keeps its action (see Filter.LastSyscall).
//
// Jumps in classic BPF have 8-bit offsets; the assembler (asm.go) routes a
// jump that would be longer through a BPF_JA, so profiles of any size up
// to the kernel's 4096 instructions compile (Docker's default is ~1100
// for x86_64 + i386 + x32).
//
// Names that are a syscall on some supported ABI but not on another are
// skipped there (profiles list syscalls of several architectures); a name
// that is a syscall nowhere is an error. The name -> number tables are
// generated from golang.org/x/sys/unix (go generate; internal/gen).
//
// Differences from runc + libseccomp, on purpose: an ABI not listed kills
// the process, not just the thread; 32-bit ABIs compare only the low word
// of arguments (as libseccomp), x32 compares all 64 bits; the i386
// socketcall/ipc multiplexers are matched by their own numbers only.
//
// SCMP_ACT_NOTIFY rules return SECCOMP_RET_USER_NOTIF and make Load ask
// for a listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER), which the runtime
// passes to the agent at listenerPath (package container). As runc: a
// notify rule needs listenerPath, notify cannot be the default action
// nor be used for write (nor, here, sendmsg: the init's messages to the
// runtime after loading the filter use both).
//
// Loading (Load, LoadStep) needs no_new_privs (NoNewPrivsStep; in a
// container the process package sets it from process.noNewPrivileges) or
// CAP_SYS_ADMIN, and must be the last step before execve on the same
// locked thread (see process.ExecStep and process.Config.Last).
package seccomp
