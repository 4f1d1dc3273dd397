package integration

import (
	bo "encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// sigsysExit is how a process killed by SECCOMP_RET_KILL_PROCESS ends:
// by SIGSYS, reported as 128+31.
const sigsysExit = 128 + int(unix.SIGSYS)

// writeProfile writes a linux.seccomp object to a file of its own.
func writeProfile(t *testing.T, js string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seccomp.json")
	if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// denyMkdir denies mkdir (mkdirat on arm64) with errno e.
func denyMkdir(e int) string {
	return fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": %d}]}`, e)
}

func TestUserDeniesMkdirWithChosenErrno(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		errno int
		msg   string
	}{
		{1, "Operation not permitted"},
		{13, "Permission denied"},
	} {
		dir := filepath.Join(t.TempDir(), "newdir")
		r := ctrLite(t, "seccomp", "--profile", writeProfile(t, denyMkdir(tc.errno)), "--", "busybox", "mkdir", dir)
		if r.code != 1 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("errnoRet %d: want busybox mkdir to fail with %q:\n%s", tc.errno, tc.msg, r)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("errnoRet %d: %s was created (%v)", tc.errno, dir, err)
		}
	}
	// The rest of the system is untouched: the same profile lets other calls through.
	dir := t.TempDir()
	mustCtrLite(t, "seccomp", "--profile", writeProfile(t, denyMkdir(1)), "--", "busybox", "touch", filepath.Join(dir, "file"))
	if _, err := os.Stat(filepath.Join(dir, "file")); err != nil {
		t.Errorf("touch under a mkdir-only deny list: %v", err)
	}
}

// TestUserSeesFilterInProcStatus: the kernel reports the filter mode and
// count of the running program, and no_new_privs as asked.
func TestUserSeesFilterInProcStatus(t *testing.T) {
	requireRoot(t)
	profile := writeProfile(t, `{"defaultAction": "SCMP_ACT_ALLOW",
		"flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}`)
	for _, tc := range []struct {
		flag, nnp string
	}{
		{"--no-new-privs=true", "NoNewPrivs:\t1"},
		{"--no-new-privs=false", "NoNewPrivs:\t0"}, // root may load a filter with CAP_SYS_ADMIN alone
	} {
		r := mustCtrLite(t, "seccomp", "--profile", profile, tc.flag, "--", "busybox", "cat", "/proc/self/status")
		for _, want := range []string{"Seccomp:\t2", "Seccomp_filters:\t1", tc.nnp} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: /proc/self/status lacks %q:\n%s", tc.flag, want, r.stdout)
			}
		}
	}
	r := mustCtrLite(t, "seccomp", "--explain", "--profile", profile, "--", "busybox", "true")
	for _, want := range []string{"prctl(PR_SET_NO_NEW_PRIVS, 1)", "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG|", "Seccomp: 2, Seccomp_filters: 1", "execve("} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--explain lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestUserKillsProcessOnDeniedSyscall(t *testing.T) {
	requireRoot(t)
	dir := filepath.Join(t.TempDir(), "newdir")
	profile := writeProfile(t, `{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}`)
	r := ctrLite(t, "seccomp", "--profile", profile, "--", "busybox", "mkdir", dir)
	if r.code != sigsysExit {
		t.Errorf("exit %d, want %d (SIGSYS):\n%s", r.code, sigsysExit, r)
	}
	// The filter is inherited: a shell's child dies, the shell goes on
	// and reports it.
	r = ctrLite(t, "seccomp", "--profile", profile, "--", "busybox", "sh", "-c", "echo before; busybox mkdir "+dir+"; echo after $?")
	if r.code != 0 || !strings.Contains(r.stdout, "after 159") || !strings.Contains(r.stderr, "Bad system call") {
		t.Errorf("the shell's child should die of SIGSYS:\n%s", r)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was created (%v)", dir, err)
	}
}

// TestUserDeniesSyscallOnlyForMatchingArguments: conditions on
// arguments pick calls by value, not just by syscall.
func TestUserDeniesSyscallOnlyForMatchingArguments(t *testing.T) {
	requireRoot(t)
	// umask(027) kills; umask(026) does not (EQ on args[0]).
	profile := writeProfile(t, `{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["umask"], "action": "SCMP_ACT_KILL_PROCESS",
			"args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": 23}]}]}`)
	r := ctrLite(t, "seccomp", "--profile", profile, "--", "busybox", "sh", "-c", "umask 026; echo ok026; umask 027; echo ok027")
	if r.code != sigsysExit || !strings.Contains(r.stdout, "ok026") || strings.Contains(r.stdout, "ok027") {
		t.Errorf("want umask 026 to pass and umask 027 to kill (exit %d):\n%s", sigsysExit, r)
	}

	// Opening with O_CREAT fails with EACCES, opening to read works
	// (MASKED_EQ on the flags: args[1] of open, args[2] of openat).
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, []byte("readable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	profile = writeProfile(t, fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
			"args": [{"index": 1, "op": "SCMP_CMP_MASKED_EQ", "value": %[1]d, "valueTwo": %[1]d}]},
		{"names": ["openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
			"args": [{"index": 2, "op": "SCMP_CMP_MASKED_EQ", "value": %[1]d, "valueTwo": %[1]d}]},
		{"names": ["creat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`, unix.O_CREAT))
	r = ctrLite(t, "seccomp", "--profile", profile, "--", "busybox", "sh", "-c", "cat "+in+"; echo x > "+out)
	if r.code == 0 || !strings.Contains(r.stdout, "readable") || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("want the read to work and the create to fail with EACCES:\n%s", r)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was created (%v)", out, err)
	}
}

// TestUserCannotEscapeThroughForeignABI: on x86_64 a program can make
// i386 syscalls (int 0x80, other numbers: 20 is getpid there, 39 is
// mkdir) and x32 ones (nr | 0x40000000). A filter for x86_64 alone must
// not let those through under other numbers: they kill the process.
func TestUserCannotEscapeThroughForeignABI(t *testing.T) {
	requireRoot(t)
	if runtime.GOARCH != "amd64" {
		t.Skipf("the hand-assembled i386 and x32 programs are x86 code; on %s the unit tests' interpreter checks foreign ABIs", runtime.GOARCH)
	}
	dir := t.TempDir()
	i386, x32 := filepath.Join(dir, "getpid-i386"), filepath.Join(dir, "getpid-x32")
	if err := os.WriteFile(i386, elf32I386GetpidExit42(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(x32, elf64X32GetpidExit7(), 0o755); err != nil {
		t.Fatal(err)
	}
	only64 := writeProfile(t, denyMkdir(1))
	withCompat := writeProfile(t, `{"defaultAction": "SCMP_ACT_ALLOW",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`)

	// x32: the syscall instruction with the x32 bit reaches seccomp as
	// AUDIT_ARCH_X86_64 whether or not the kernel has CONFIG_X86_X32_ABI.
	if r := ctrLite(t, "seccomp", "--profile", withCompat, "--", x32); r.code != 7 {
		t.Errorf("x32 call with SCMP_ARCH_X32 listed: want exit 7:\n%s", r)
	}
	if r := ctrLite(t, "seccomp", "--profile", only64, "--", x32); r.code != sigsysExit {
		t.Errorf("x32 call, SCMP_ARCH_X32 not listed: want exit %d (SIGSYS):\n%s", sigsysExit, r)
	}

	// i386 needs the kernel's IA32 emulation to run at all.
	err := exec.Command(i386).Run()
	var ee *exec.ExitError
	switch {
	case errors.Is(err, syscall.ENOEXEC):
		t.Skipf("kernel cannot run i386 programs (no CONFIG_IA32_EMULATION or ia32_emulation=0): %v; x32 checked above", err)
	case errors.As(err, &ee) && ee.ExitCode() == 42:
	default:
		t.Fatalf("i386 program without a filter: %v, want exit 42", err)
	}
	if r := ctrLite(t, "seccomp", "--profile", withCompat, "--", i386); r.code != 42 {
		t.Errorf("i386 call with SCMP_ARCH_X86 listed: want exit 42:\n%s", r)
	}
	if r := ctrLite(t, "seccomp", "--profile", only64, "--", i386); r.code != sigsysExit {
		t.Errorf("i386 call, SCMP_ARCH_X86 not listed: want exit %d (SIGSYS):\n%s", sigsysExit, r)
	}
}

// elf32I386GetpidExit42 is a minimal static i386 ELF executable:
// getpid() then exit(42), both through int 0x80.
func elf32I386GetpidExit42() []byte {
	code := []byte{
		0xb8, 20, 0, 0, 0, // mov eax, 20 (getpid)
		0xcd, 0x80, // int 0x80
		0xbb, 42, 0, 0, 0, // mov ebx, 42
		0xb8, 1, 0, 0, 0, // mov eax, 1 (exit)
		0xcd, 0x80, // int 0x80
	}
	const base, ehsize, phsize = 0x08048000, 52, 32
	le := bo.LittleEndian
	b := make([]byte, ehsize+phsize)
	copy(b, []byte{0x7f, 'E', 'L', 'F', 1 /* 32-bit */, 1 /* LE */, 1 /* version */})
	le.PutUint16(b[16:], 2)                  // e_type ET_EXEC
	le.PutUint16(b[18:], 3)                  // e_machine EM_386
	le.PutUint32(b[20:], 1)                  // e_version
	le.PutUint32(b[24:], base+ehsize+phsize) // e_entry
	le.PutUint32(b[28:], ehsize)             // e_phoff
	le.PutUint16(b[40:], ehsize)             // e_ehsize
	le.PutUint16(b[42:], phsize)             // e_phentsize
	le.PutUint16(b[44:], 1)                  // e_phnum
	ph := b[ehsize:]
	size := uint32(ehsize + phsize + len(code))
	le.PutUint32(ph[0:], 1)     // p_type PT_LOAD
	le.PutUint32(ph[8:], base)  // p_vaddr
	le.PutUint32(ph[12:], base) // p_paddr
	le.PutUint32(ph[16:], size) // p_filesz
	le.PutUint32(ph[20:], size) // p_memsz
	le.PutUint32(ph[24:], 5)    // p_flags R|X
	le.PutUint32(ph[28:], 0x1000)
	return append(b, code...)
}

// elf64X32GetpidExit7 is a minimal static x86_64 ELF executable that
// calls getpid through the x32 ABI (39 | __X32_SYSCALL_BIT), ignores the
// result (-ENOSYS without CONFIG_X86_X32_ABI), then exit(7) as x86_64.
func elf64X32GetpidExit7() []byte {
	code := []byte{
		0xb8, 39, 0, 0, 0x40, // mov eax, 0x40000027 (x32 getpid)
		0x0f, 0x05, // syscall
		0xbf, 7, 0, 0, 0, // mov edi, 7
		0xb8, 60, 0, 0, 0, // mov eax, 60 (exit)
		0x0f, 0x05, // syscall
	}
	const base, ehsize, phsize = 0x400000, 64, 56
	le := bo.LittleEndian
	b := make([]byte, ehsize+phsize)
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */})
	le.PutUint16(b[16:], 2)                  // e_type ET_EXEC
	le.PutUint16(b[18:], 62)                 // e_machine EM_X86_64
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

// TestUserRunsShellUnderAllowList: a Docker-like allow-list (default
// EPERM) runs a shell; what it does not list fails with EPERM.
func TestUserRunsShellUnderAllowList(t *testing.T) {
	requireRoot(t)
	profile := writeProfile(t, `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
		"syscalls": [{"names": ["access", "arch_prctl", "brk", "close", "dup2", "execve", "exit", "exit_group",
			"faccessat", "fcntl", "fstat", "getcwd", "getpid", "getppid", "getuid", "geteuid", "ioctl", "lseek",
			"mmap", "mprotect", "munmap", "newfstatat", "open", "openat", "read", "rt_sigaction", "rt_sigprocmask",
			"rt_sigreturn", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "getrandom", "statx",
			"stat", "lstat", "uname", "wait4", "write", "writev", "clone", "clone3", "vfork", "fork", "futex",
			"sethostname", "ppoll", "poll", "pipe", "pipe2", "dup", "dup3", "getpgrp", "setpgid", "gettid", "tgkill",
			"sigaltstack", "madvise", "faccessat2", "chdir", "fchdir", "umask", "getgid", "getegid", "readlink",
			"readlinkat", "getdents64", "kill", "exit", "sched_yield", "nanosleep", "clock_gettime",
			"gettimeofday", "mremap", "fstatfs", "statfs"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
			 "args": [{"index": 1, "op": "SCMP_CMP_GT", "value": 3}]}]}`)
	dir := filepath.Join(t.TempDir(), "newdir")
	r := ctrLite(t, "seccomp", "--profile", profile, "--", "busybox", "sh", "-c", "echo listed; busybox mkdir "+dir)
	if !strings.Contains(r.stdout, "listed") || r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("want echo to work and mkdir (not listed) to fail with EPERM:\n%s", r)
	}
	// sethostname with a name longer than 3 bytes: EACCES from the
	// argument rule, before the kernel's own permission check runs.
	r = ctrLite(t, "seccomp", "--profile", profile, "--", "busybox", "hostname", "ctr-lite-not-set")
	if r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("sethostname(len 16) should fail with EACCES:\n%s", r)
	}
}

func TestUserDumpsAndChecksProfile(t *testing.T) {
	profile := writeProfile(t, denyMkdir(13))
	r := mustCtrLite(t, "seccomp", "dump", "--arch", "amd64", profile)
	for _, want := range []string{
		"0000: ld  [4]", "; A = seccomp_data.arch", "jeq #0xc000003e", "; mkdir", "; mkdirat",
		"ret #0x0005000d", "ERRNO(13)", "jeq #83 ", "ret #0x80000000",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dump lacks %q:\n%s", want, r.stdout)
		}
	}
	// arm64 has no mkdir: only mkdirat (34) is checked there.
	r = mustCtrLite(t, "seccomp", "dump", "--arch", "SCMP_ARCH_AARCH64", profile)
	if !strings.Contains(r.stdout, "jeq #34 ") || strings.Contains(r.stdout, "; mkdir\n") || !strings.Contains(r.stdout, "jeq #0xc00000b7") {
		t.Errorf("arm64 dump:\n%s", r.stdout)
	}
	// A whole config.json works too.
	cfg := writeProfile(t, `{"ociVersion": "1.2.0", "process": {"args": ["sh"]}, "linux": {"seccomp": `+denyMkdir(13)+`}}`)
	r = mustCtrLite(t, "seccomp", "check", cfg)
	for _, want := range []string{"profile ok", "default action:      ALLOW", "SCMP_ARCH_", "syscalls with rules"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestUserGetsOneLineErrorForBadProfile: nothing runs when the profile
// is wrong; the error names what is wrong.
func TestUserGetsOneLineErrorForBadProfile(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct{ js, want string }{
		{"{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"syscalls\": [}", "malformed JSON at line 2"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "frobnicate"], "action": "SCMP_ACT_ERRNO"}]}`, `unknown syscall "frobnicate"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]}`, `unknown architecture "SCMP_ARCH_PDP11"`},
		{`{"defaultAction": "SCMP_ACT_SOMETIMES"}`, `unknown action "SCMP_ACT_SOMETIMES"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["umask"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "SCMP_CMP_ABOUT", "value": 1}]}]}`, `unknown operator "SCMP_CMP_ABOUT"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}`, "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"},
		{`{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/x.sock"}`, "SCMP_ACT_NOTIFY cannot be the default action"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "archMap": []}`, `unknown field "archMap"`},
	} {
		profile := writeProfile(t, tc.js)
		wantFail(t, []string{"seccomp", "check", profile}, tc.want, profile)
		marker := filepath.Join(t.TempDir(), "ran")
		wantFail(t, []string{"seccomp", "--profile", profile, "--", "busybox", "touch", marker}, tc.want)
		if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the command ran despite the bad profile", tc.want)
		}
	}
	wantFail(t, []string{"seccomp", "check", "/nonexistent/profile.json"}, "/nonexistent/profile.json")
	wantFail(t, []string{"seccomp", "dump", "--arch", "vax", writeProfile(t, denyMkdir(1))}, `unknown architecture "vax"`)
	wantFail(t, []string{"seccomp", "frob"}, `unknown subcommand "frob"`)
	// A profile that denies execve stops the command at execve.
	r := wantFail(t, []string{"seccomp", "--profile", writeProfile(t, `{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ERRNO"}]}`), "--", "busybox", "true"}, "execve", "operation not permitted")
	if r.code != 1 {
		t.Errorf("denied execve: exit %d, want 1", r.code)
	}
}
