package integration

import (
	bo "encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// syscallProbe is a minimal static ELF executable for this machine that
// makes syscall nr with all arguments 0 and exits with -return value, so
// its exit code is the errno (0 on success).
func syscallProbe(t *testing.T, nr uint32) []byte {
	t.Helper()
	var machine uint16
	var code []byte
	le := bo.LittleEndian
	insns := func(words ...uint32) []byte {
		b := make([]byte, 4*len(words))
		for i, w := range words {
			le.PutUint32(b[4*i:], w)
		}
		return b
	}
	switch runtime.GOARCH {
	case "amd64": // registers are 0 at process start
		machine = 62                                             // EM_X86_64
		code = append([]byte{0xb8}, le.AppendUint32(nil, nr)...) // mov eax, nr
		code = append(code,
			0x0f, 0x05, // syscall
			0xf7, 0xd8, // neg eax
			0x89, 0xc7, // mov edi, eax
			0xb8, 231, 0, 0, 0, // mov eax, 231 (exit_group)
			0x0f, 0x05) // syscall
	case "arm64":
		machine = 183 // EM_AARCH64
		code = insns(
			0xd2800008|nr<<5, // movz x8, #nr
			0xd4000001,       // svc #0
			0x4b0003e0,       // neg w0, w0
			0xd2800008|94<<5, // movz x8, #94 (exit_group)
			0xd4000001)       // svc #0
	case "riscv64":
		machine = 243 // EM_RISCV
		code = insns(
			nr<<20|17<<7|0x13, // addi a7, zero, nr
			0x00000073,        // ecall
			0x40a00533,        // sub a0, zero, a0
			94<<20|17<<7|0x13, // addi a7, zero, 94 (exit_group)
			0x00000073)        // ecall
	default:
		t.Fatalf("no hand-assembled syscall probe for %s", runtime.GOARCH)
	}
	const base, ehsize, phsize = 0x400000, 64, 56
	b := make([]byte, ehsize+phsize)
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */})
	le.PutUint16(b[16:], 2)                  // e_type ET_EXEC
	le.PutUint16(b[18:], machine)            // e_machine
	le.PutUint32(b[20:], 1)                  // e_version
	le.PutUint64(b[24:], base+ehsize+phsize) // e_entry
	le.PutUint64(b[32:], ehsize)             // e_phoff
	le.PutUint16(b[52:], ehsize)             // e_ehsize
	le.PutUint16(b[54:], phsize)             // e_phentsize
	le.PutUint16(b[56:], 1)                  // e_phnum
	ph := b[ehsize:]
	size := uint64(ehsize + phsize + len(code))
	le.PutUint32(ph[0:], 1)     // p_type PT_LOAD
	le.PutUint32(ph[4:], 5)     // p_flags R|X
	le.PutUint64(ph[16:], base) // p_vaddr
	le.PutUint64(ph[24:], base) // p_paddr
	le.PutUint64(ph[32:], size) // p_filesz
	le.PutUint64(ph[40:], size) // p_memsz
	le.PutUint64(ph[48:], 0x1000)
	return append(b, code...)
}

// getppidNr is getppid's number here: a syscall every profile below
// knows (it is lower than the highest they name) but does not allow.
func getppidNr(t *testing.T) uint32 {
	switch runtime.GOARCH {
	case "amd64":
		return 110
	case "arm64", "riscv64":
		return 173
	}
	t.Fatalf("no getppid number for %s", runtime.GOARCH)
	return 0
}

// initSyscalls are what ctr-lite's init (a Go program, as runc's) may call
// between loading the filter and execve (telling the runtime it is ready,
// waiting for start on the exec FIFO), and the probes' own calls: a
// deny-by-default profile must allow them, as Docker's does.
var initSyscalls = []string{"execve", "exit", "exit_group", "read", "write", "close", "open", "openat",
	"fcntl", "futex", "sendmsg", "recvmsg", "sendto", "recvfrom", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "sigaltstack", "mmap", "munmap", "madvise", "mprotect", "nanosleep", "sched_yield",
	"getpid", "gettid", "tgkill", "clock_gettime", "clock_nanosleep", "epoll_pwait", "epoll_ctl",
	"fstat", "newfstatat", "brk", "getrandom", "prctl", "capget", "capset"}

// TestUserGetsENOSYSForSyscallTheProfileDoesNotKnow: under a deny-by-default
// profile (EPERM), a syscall newer than every one the profile names
// (syscall 1000) fails with ENOSYS so that programs fall back to older
// calls, as with runc; a known syscall the profile does not allow still
// gets EPERM; with an allow-by-default profile nothing is patched.
func TestUserGetsENOSYSForSyscallTheProfileDoesNotKnow(t *testing.T) {
	const enosys, eperm = 38, 1
	deny := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{
			{Names: initSyscalls, Action: specs.ActAllow},
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKillProcess},
		}}
	allowAll := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno}}}
	b := newBundle(t, "enosys")
	for _, p := range []uint32{1000, getppidNr(t)} {
		if err := os.WriteFile(filepath.Join(b.dir, "rootfs", fmt.Sprintf("probe-%d", p)), syscallProbe(t, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, tc := range []struct {
		profile *specs.LinuxSeccomp
		nr      uint32
		want    int
	}{
		{deny, 1000, enosys},
		{deny, getppidNr(t), eperm},
		{allowAll, 1000, enosys}, // the kernel's own answer, not the filter's
		{allowAll, getppidNr(t), eperm},
	} {
		b.spec.Process.Args = []string{fmt.Sprintf("/probe-%d", tc.nr)}
		b.spec.Linux.Seccomp = tc.profile
		b.write()
		id := b.track(fmt.Sprintf("%s-%d", b.id, i))
		if r := b.ctr("run", "-b", b.dir, id); r.code != tc.want {
			t.Errorf("default %s, syscall %d: exit %d, want %d (errno):\n%s", tc.profile.DefaultAction, tc.nr, r.code, tc.want, r)
		}
	}
	// The same through `ctr-lite seccomp`, which compiles the same way.
	// It loads the filter in a Go process, on the thread that then calls
	// execve: the profile allows what the Go runtime calls on it in
	// between: syscall.Exec restores the RLIMIT_NOFILE soft limit Go
	// raised at start (prlimit64; only where soft < hard, as in the
	// pure-v2 VM: SIGSYS there), and an async preemption's rt_sigreturn,
	// futex... (the Go init's list, initSyscalls).
	names, _ := json.Marshal(append([]string{"execve", "exit_group", "getppid", "prlimit64", "setrlimit", "getrlimit"}, initSyscalls...))
	profile := writeProfile(t, `{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [{"names": `+string(names)+`, "action": "SCMP_ACT_ALLOW"}]}`)
	if r := ctrLite(t, "seccomp", "--profile", profile, "--", filepath.Join(b.dir, "rootfs", "probe-1000")); r.code != enosys {
		t.Errorf("ctr-lite seccomp, default KILL_PROCESS, syscall 1000: exit %d, want %d (ENOSYS):\n%s", r.code, enosys, r)
	}
	b.wantNothingLeft()
}
