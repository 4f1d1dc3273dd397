package seccomp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	allow = unix.SECCOMP_RET_ALLOW
	kill  = unix.SECCOMP_RET_KILL_PROCESS
)

func errno(e uint32) uint32 { return unix.SECCOMP_RET_ERRNO | e }

func mustArch(t *testing.T, name string) Arch {
	t.Helper()
	a, err := LookupArch(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func compileJSON(t *testing.T, native, js string) *Filter {
	t.Helper()
	cfg, err := Decode([]byte(js))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, js)
	}
	f, err := Compile(cfg, mustArch(t, native))
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, js)
	}
	return f
}

// sys runs the filter for syscall name made through ABI abi.
func sys(t *testing.T, f *Filter, abi, name string, args ...uint64) uint32 {
	t.Helper()
	a := mustArch(t, abi)
	nr, ok := a.Syscall(name)
	if !ok {
		t.Fatalf("%s is no syscall on %s", name, abi)
	}
	c := call{arch: a.Audit, nr: nr}
	copy(c.args[:], args)
	return runBPF(t, f.Program, c, f.Arch.BigEndian)
}

func wantRet(t *testing.T, what string, got, want uint32) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %s, want %s", what, ActionString(got), ActionString(want))
	}
}

func TestSyscallTables(t *testing.T) {
	for _, tc := range []struct {
		arch, name string
		nr         uint32
	}{
		{"SCMP_ARCH_X86_64", "execve", 59},
		{"SCMP_ARCH_X86_64", "mkdir", 83},
		{"SCMP_ARCH_X86", "execve", 11},
		{"SCMP_ARCH_X86", "socketcall", 102},
		{"SCMP_ARCH_X32", "getpid", 0x40000000 | 39},
		{"SCMP_ARCH_X32", "execve", 0x40000000 | 520}, // x32's own entry
		{"SCMP_ARCH_AARCH64", "mkdirat", 34},
		{"SCMP_ARCH_ARM", "execve", 11}, // EABI numbers, no 0x900000 OABI base
		{"SCMP_ARCH_ARM", "cacheflush", 0x0f0002},
		{"SCMP_ARCH_RISCV64", "riscv_flush_icache", 259},
		{"SCMP_ARCH_S390X", "execve", 11},
		{"SCMP_ARCH_PPC64LE", "execve", 11},
		{"SCMP_ARCH_MIPS", "execve", 4011},
		{"SCMP_ARCH_MIPSEL64", "execve", 5057},
		{"SCMP_ARCH_LOONGARCH64", "execve", 221},
	} {
		a := mustArch(t, tc.arch)
		nr, ok := a.Syscall(tc.name)
		if !ok || nr != tc.nr {
			t.Errorf("%s %s = %#x, %v; want %#x", tc.arch, tc.name, nr, ok, tc.nr)
		}
		if n, _ := a.SyscallName(tc.nr); n != tc.name {
			t.Errorf("%s SyscallName(%#x) = %q, want %q", tc.arch, tc.nr, n, tc.name)
		}
	}
	for _, absent := range []struct{ arch, name string }{
		{"SCMP_ARCH_X32", "uselib"},           // "64"-only in syscall_64.tbl
		{"SCMP_ARCH_AARCH64", "open"},         // asm-generic has only openat
		{"SCMP_ARCH_X86_64", "socketcall"},    // i386 multiplexer
		{"SCMP_ARCH_X86_64", "riscv_hwprobe"}, // another arch's own
	} {
		if nr, ok := mustArch(t, absent.arch).Syscall(absent.name); ok {
			t.Errorf("%s %s = %d, want absent", absent.arch, absent.name, nr)
		}
	}
	for _, a := range Arches() {
		if a.column() < 0 {
			t.Errorf("%s has no column in the generated table", a.Name)
		}
		if _, ok := a.Syscall("exit_group"); !ok {
			t.Errorf("%s: exit_group missing: table not generated?", a.Name)
		}
	}
}

func TestLookupArch(t *testing.T) {
	for in, want := range map[string]specs.Arch{
		"amd64": specs.ArchX86_64, "x86_64": specs.ArchX86_64, "SCMP_ARCH_X86_64": specs.ArchX86_64,
		"arm64": specs.ArchAARCH64, "386": specs.ArchX86, "SCMP_ARCH_X32": specs.ArchX32,
	} {
		a, err := LookupArch(in)
		if err != nil || a.Name != want {
			t.Errorf("LookupArch(%q) = %v, %v; want %s", in, a.Name, err, want)
		}
	}
	for in, want := range map[string]string{
		"SCMP_ARCH_S390":  "not supported",
		"SCMP_ARCH_VAX":   "unknown architecture",
		"SCMP_ARCH_SHEB":  "not supported",
		"x86-64-ish-typo": "unknown architecture",
	} {
		if _, err := LookupArch(in); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), in) {
			t.Errorf("LookupArch(%q) = %v, want error with %q", in, err, want)
		}
	}
	if _, err := NativeArch(); err != nil {
		t.Errorf("NativeArch: %v", err)
	}
}

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want uint32
	}{
		{`"action": "SCMP_ACT_KILL"`, unix.SECCOMP_RET_KILL_THREAD},
		{`"action": "SCMP_ACT_KILL_THREAD"`, unix.SECCOMP_RET_KILL_THREAD},
		{`"action": "SCMP_ACT_KILL_PROCESS"`, unix.SECCOMP_RET_KILL_PROCESS},
		{`"action": "SCMP_ACT_TRAP"`, unix.SECCOMP_RET_TRAP},
		{`"action": "SCMP_ACT_ERRNO"`, errno(1)}, // EPERM when errnoRet is absent
		{`"action": "SCMP_ACT_ERRNO", "errnoRet": 13`, errno(13)},
		{`"action": "SCMP_ACT_ERRNO", "errnoRet": 0`, errno(0)},
		{`"action": "SCMP_ACT_TRACE"`, unix.SECCOMP_RET_TRACE | 1},
		{`"action": "SCMP_ACT_TRACE", "errnoRet": 4242`, unix.SECCOMP_RET_TRACE | 4242},
		{`"action": "SCMP_ACT_LOG"`, unix.SECCOMP_RET_LOG},
	} {
		f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], `+tc.rule+`}]}`)
		wantRet(t, tc.rule, sys(t, f, "amd64", "mkdir"), tc.want)
		wantRet(t, tc.rule+" (other syscall)", sys(t, f, "amd64", "getpid"), allow)
	}
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}`)
	wantRet(t, "defaultErrnoRet", sys(t, f, "amd64", "mkdir"), errno(38))
	wantRet(t, "allowed", sys(t, f, "amd64", "getpid"), allow)
}

// ref is the meaning of each operator (libseccomp: unsigned 64-bit).
func ref(op specs.LinuxSeccompOperator, arg, v, v2 uint64) bool {
	switch op {
	case specs.OpEqualTo:
		return arg == v
	case specs.OpNotEqual:
		return arg != v
	case specs.OpLessThan:
		return arg < v
	case specs.OpLessEqual:
		return arg <= v
	case specs.OpGreaterThan:
		return arg > v
	case specs.OpGreaterEqual:
		return arg >= v
	case specs.OpMaskedEqual:
		return arg&v == v2
	}
	panic(op)
}

// TestOperatorsAtBoundaries checks all seven operators against their
// meaning, for values whose high and low words differ in every way,
// on a little-endian, a big-endian and a 32-bit ABI.
func TestOperatorsAtBoundaries(t *testing.T) {
	values := []uint64{0, 5, 0xffffffff, 0x100000000, 0x100000005, 0x2fffffffe, 0xffffffffffffffff, 0x8000000000000000}
	var args []uint64
	for _, v := range values {
		args = append(args, v-1, v, v+1, v^0xffffffff00000000, v^0xffffffff)
	}
	type abi struct{ native, arch string }
	for _, x := range []abi{{"amd64", "amd64"}, {"s390x", "s390x"}, {"ppc64", "ppc64"}, {"amd64", "386"}, {"arm", "arm"}, {"mips", "mips"}} {
		for _, op := range []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo, specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual} {
			for _, v := range values {
				v2 := v & 0x0000ffff0000ff00 // a valueTwo for MASKED_EQ that some args hit
				js := fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
					"syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7,
					"args": [{"index": 2, "op": %q, "value": %d, "valueTwo": %d}]}]}`, op, v, v2)
				f := compileJSON(t, x.native, js)
				a := mustArch(t, x.arch)
				for _, arg := range append(args, v2, v2|0xf0f0) {
					want := ref(op, arg, v, v2)
					if a.Bits == 32 {
						// 32-bit ABIs carry 32-bit arguments; only the low word counts.
						want = ref(op, uint64(uint32(arg)), uint64(uint32(v)), uint64(uint32(v2)))
					}
					exp := uint32(allow)
					if want {
						exp = errno(7)
					}
					got := sys(t, f, x.arch, "ioctl", 0, 0, arg)
					if got != exp {
						t.Fatalf("%s on %s: args[2]=%#x %s %#x (valueTwo %#x): got %s, want %s",
							x.arch, x.native, arg, op, v, v2, ActionString(got), ActionString(exp))
					}
				}
			}
		}
	}
}

func TestArgumentRules(t *testing.T) {
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		 "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": 1}, {"index": 1, "op": "SCMP_CMP_EQ", "value": 9}]},
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2,
		 "args": [{"index": 1, "op": "SCMP_CMP_EQ", "value": 15}]},
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3,
		 "args": [{"index": 0, "op": "SCMP_CMP_GE", "value": 10}, {"index": 2, "op": "SCMP_CMP_LE", "value": 20}]},
		{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4},
		{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 5, "op": "SCMP_CMP_NE", "value": 0}]}
	]}`)
	for _, tc := range []struct {
		name string
		args []uint64
		want uint32
	}{
		{"kill", []uint64{1, 9}, errno(1)},               // both args of rule 0: AND
		{"kill", []uint64{1, 8}, allow},                  // one arg only
		{"kill", []uint64{2, 9}, allow},                  // the other only
		{"kill", []uint64{1, 15}, errno(2)},              // rule 1: rules OR
		{"kill", []uint64{15, 15}, errno(2)},             // first matching rule wins
		{"kill", []uint64{15, 0, 20}, errno(3)},          // two conditions on two args AND
		{"kill", []uint64{15, 0, 21}, allow},             // the second fails
		{"kill", []uint64{9, 0, 0}, allow},               // the first fails
		{"getpid", []uint64{0}, errno(4)},                // the rule without arguments
		{"getpid", []uint64{0, 0, 0, 0, 0, 1}, errno(5)}, // argument rules first
		{"mkdir", nil, allow},
	} {
		wantRet(t, fmt.Sprintf("%s%v", tc.name, tc.args), sys(t, f, "amd64", tc.name, tc.args...), tc.want)
	}
}

// TestConditionsOnOneArgumentOR: as runc, a rule with two or more
// conditions on the same argument index becomes one rule per condition
// (all of them, other indexes too): they OR. Distinct indexes AND.
func TestConditionsOnOneArgumentOR(t *testing.T) {
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		 "args": [{"index": 0, "op": "SCMP_CMP_GE", "value": 10}, {"index": 0, "op": "SCMP_CMP_LE", "value": 20}]},
		{"names": ["setpgid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2,
		 "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": 1}, {"index": 0, "op": "SCMP_CMP_EQ", "value": 2},
		          {"index": 1, "op": "SCMP_CMP_EQ", "value": 3}]},
		{"names": ["setpgid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3,
		 "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": 7}, {"index": 1, "op": "SCMP_CMP_EQ", "value": 8}]},
		{"names": ["getpgid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4,
		 "args": [{"index": 0, "op": "SCMP_CMP_MASKED_EQ", "value": 255, "valueTwo": 5},
		          {"index": 0, "op": "SCMP_CMP_NE", "value": 5}]}
	]}`)
	for _, tc := range []struct {
		name string
		args []uint64
		want uint32
	}{
		{"kill", []uint64{15}, errno(1)},       // both hold
		{"kill", []uint64{21}, errno(1)},       // >= 10 alone: OR, not the range 10-20
		{"kill", []uint64{9}, errno(1)},        // <= 20 alone
		{"setpgid", []uint64{1, 0}, errno(2)},  // arg 0 == 1
		{"setpgid", []uint64{2, 0}, errno(2)},  // arg 0 == 2
		{"setpgid", []uint64{0, 3}, errno(2)},  // arg 1 == 3 alone: split too
		{"setpgid", []uint64{0, 0}, allow},     // none
		{"setpgid", []uint64{7, 8}, errno(3)},  // distinct indexes: AND
		{"setpgid", []uint64{7, 0}, allow},     // one of them only
		{"setpgid", []uint64{0, 8}, allow},     // the other only
		{"getpgid", []uint64{5}, errno(4)},     // mask holds, != fails: ANDed it would allow
		{"getpgid", []uint64{6}, errno(4)},     // != holds, mask fails
		{"getpgid", []uint64{0x105}, errno(4)}, // both hold
	} {
		wantRet(t, fmt.Sprintf("%s%v", tc.name, tc.args), sys(t, f, "amd64", tc.name, tc.args...), tc.want)
	}
	// The same on a 32-bit ABI, where only the low word is compared.
	f = compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "syscalls": [
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		 "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": 1}, {"index": 0, "op": "SCMP_CMP_EQ", "value": 2}]}
	]}`)
	for _, abi := range []string{"amd64", "386"} {
		wantRet(t, abi+" kill(1)", sys(t, f, abi, "kill", 1), errno(1))
		wantRet(t, abi+" kill(2)", sys(t, f, abi, "kill", 2), errno(1))
		wantRet(t, abi+" kill(3)", sys(t, f, abi, "kill", 3), allow)
	}
}

// TestForeignArchitecturesAreRejected: an x86_64 filter sees int 0x80
// (AUDIT_ARCH_I386) and x32 (nr | 0x40000000) calls; unless the profile
// lists those ABIs they kill the process, whatever the default action.
func TestForeignArchitecturesAreRejected(t *testing.T) {
	deny := `"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]`
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", `+deny+`}`)
	wantRet(t, "x86_64 getpid", sys(t, f, "amd64", "getpid"), allow)
	wantRet(t, "x86_64 mkdir", sys(t, f, "amd64", "mkdir"), errno(13))
	wantRet(t, "i386 getpid", sys(t, f, "386", "getpid"), kill)
	wantRet(t, "x32 getpid", sys(t, f, "x32", "getpid"), kill)
	wantRet(t, "aarch64 getpid", sys(t, f, "arm64", "getpid"), kill)
	wantRet(t, "nr -1", runBPF(t, f.Program, call{arch: unix.AUDIT_ARCH_X86_64, nr: 0xffffffff}, false), allow)

	f = compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], `+deny+`}`)
	wantRet(t, "i386 getpid", sys(t, f, "386", "getpid"), allow)
	wantRet(t, "i386 mkdir (nr 39)", sys(t, f, "386", "mkdir"), errno(13))
	wantRet(t, "x32 getpid", sys(t, f, "x32", "getpid"), allow)
	wantRet(t, "x32 mkdir", sys(t, f, "x32", "mkdir"), errno(13))
	wantRet(t, "x86_64 mkdir", sys(t, f, "amd64", "mkdir"), errno(13))
	wantRet(t, "x86_64 getpid", sys(t, f, "amd64", "getpid"), allow)

	f = compileJSON(t, "arm64", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_ARM"], `+deny+`}`)
	wantRet(t, "aarch64 mkdir (absent there)", sys(t, f, "arm64", "mkdirat"), allow)
	wantRet(t, "aarch32 mkdir", sys(t, f, "arm", "mkdir"), errno(13))
	wantRet(t, "x86_64 on arm64", sys(t, f, "amd64", "mkdir"), kill)
}

// TestLongPrograms: 8-bit jump offsets must not limit profiles. 400
// rules with distinct actions, and one syscall with 120 argument rules,
// all still decide right.
func TestLongPrograms(t *testing.T) {
	a := mustArch(t, "amd64")
	var rules []string
	want := map[string]uint32{}
	cond := map[string]bool{}
	for i := range syscallNrs {
		name := syscallName(i)
		if len(rules) == 400 {
			break
		}
		if _, ok := a.Syscall(name); !ok || name == "ioctl" {
			continue
		}
		n := uint32(len(rules)%300 + 1)
		if len(rules)%3 == 0 {
			// Every third rule also has an argument condition.
			cond[name] = true
			rules = append(rules, fmt.Sprintf(`{"names": [%q], "action": "SCMP_ACT_ERRNO", "errnoRet": %d, "args": [{"index": 1, "op": "SCMP_CMP_GT", "value": 4294967296}]}`, name, n))
		} else {
			rules = append(rules, fmt.Sprintf(`{"names": [%q], "action": "SCMP_ACT_ERRNO", "errnoRet": %d}`, name, n))
		}
		want[name] = n
	}
	for i := range 120 {
		rules = append(rules, fmt.Sprintf(`{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": %d, "args": [{"index": 1, "op": "SCMP_CMP_EQ", "value": %d}]}`, 1000+i, 0x5400+i))
	}
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [`+strings.Join(rules, ",")+`]}`)
	if len(f.Program) < 600 {
		t.Fatalf("program only %d instructions: not a long program", len(f.Program))
	}
	long := 0
	for _, c := range f.Comments {
		if strings.HasPrefix(c, "long jump") {
			long++
		}
	}
	if long == 0 {
		t.Errorf("no long jump in a %d-instruction program", len(f.Program))
	}
	for name, n := range want {
		small := errno(n)
		if cond[name] {
			small = allow
		}
		wantRet(t, name+" arg1 small", sys(t, f, "amd64", name, 0, 1), small)
		wantRet(t, name, sys(t, f, "amd64", name, 0, 1<<33), errno(n))
	}
	for i := range 120 {
		wantRet(t, fmt.Sprintf("ioctl %#x", 0x5400+i), sys(t, f, "amd64", "ioctl", 3, uint64(0x5400+i)), errno(uint32(1000+i)))
	}
	wantRet(t, "ioctl other", sys(t, f, "amd64", "ioctl", 3, 0x1234), allow)
	wantRet(t, "i386", sys(t, f, "386", "getpid"), kill)

	// With i386 listed, its section lies behind the long x86_64 one: the
	// arch dispatch itself needs a long jump.
	f = compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "syscalls": [`+strings.Join(rules, ",")+`]}`)
	if f.Comments[2] != "arch is SCMP_ARCH_X86" || f.Program[2].Jt != 0 || f.Comments[3] != "long jump (true branch)" {
		t.Errorf("arch dispatch to i386 is no long jump: %+v %q, next %q", f.Program[2], f.Comments[2], f.Comments[3])
	}
	i386 := mustArch(t, "386")
	checked := 0
	for name, n := range want {
		if _, ok := i386.Syscall(name); !ok {
			continue
		}
		checked++
		// i386 compares the low word only: 1 > 0 there, 2^33+1 > 2^32 on x86_64.
		wantRet(t, "i386 "+name, sys(t, f, "386", name, 0, 1<<33|1), errno(n))
		wantRet(t, "x86_64 "+name, sys(t, f, "amd64", name, 0, 1<<33|1), errno(n))
	}
	if checked < 200 {
		t.Errorf("only %d i386 syscalls checked", checked)
	}
	wantRet(t, "i386 ioctl", sys(t, f, "386", "ioctl", 3, 0x5401), errno(1001))
}

func TestBadProfiles(t *testing.T) {
	for _, tc := range []struct{ js, want string }{
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "frobnicate"], "action": "SCMP_ACT_ERRNO"}]}`, `unknown syscall "frobnicate"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}`, `unknown architecture "SCMP_ARCH_Z80"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PARISC"]}`, `SCMP_ARCH_PARISC is not supported`},
		{`{"defaultAction": "SCMP_ACT_PERHAPS"}`, `unknown action "SCMP_ACT_PERHAPS"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_MAYBE"}]}`, `unknown action "SCMP_ACT_MAYBE"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "SCMP_CMP_ALMOST", "value": 1}]}]}`, `unknown operator "SCMP_CMP_ALMOST"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "op": "SCMP_CMP_EQ", "value": 1}]}]}`, `index 6 out of range`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}`, `SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath`},
		{`{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock"}`, `SCMP_ACT_NOTIFY cannot be the default action`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "m"}`, `listenerMetadata is set but listenerPath is not`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "syscalls": [{"names": ["mkdir", "write"], "action": "SCMP_ACT_NOTIFY"}]}`, `syscalls[0]: SCMP_ACT_NOTIFY cannot be used for the write syscall`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "syscalls": [{"names": ["sendmsg"], "action": "SCMP_ACT_NOTIFY"}]}`, `SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}`, `needs a SCMP_ACT_NOTIFY rule`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}`, `unknown seccomp flag "SECCOMP_FILTER_FLAG_FAST"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}`, `needs a SCMP_ACT_NOTIFY rule`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}`, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE`},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}`, `errnoRet 5000 out of range`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}`, `syscalls[0]: no names`},
	} {
		cfg, err := Decode([]byte(tc.js))
		if err == nil {
			_, err = Compile(cfg, mustArch(t, "amd64"))
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n  got error %v, want %q", tc.js, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct{ js, want string }{
		{"{\n\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"syscalls\": [\n", "malformed JSON"},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "archMap": []}`, `unknown field "archMap"`},
		{`{"ociVersion": "1.2.0", "linux": {}}`, "no linux.seccomp"},
		{`{"syscalls": []}`, "defaultAction missing"},
		{`[1, 2]`, "malformed JSON"},
	} {
		if _, err := Decode([]byte(tc.js)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%s) = %v, want error with %q", tc.js, err, tc.want)
		}
	}
	if _, err := Decode([]byte("{\n\"defaultAction\": \"SCMP_ACT_ALLOW\",,\n}")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error without line: %v", err)
	}
	cfg, err := Decode([]byte(`{"ociVersion": "1.2.0", "process": {"args": ["sh"]}, "linux": {"namespaces": [], "seccomp": {"defaultAction": "SCMP_ACT_LOG"}}}`))
	if err != nil || cfg.DefaultAction != specs.ActLog {
		t.Errorf("config.json: %+v, %v", cfg, err)
	}
}

// TestTestdataProfiles compiles the shipped profiles for every ABI as
// native: they must fit the kernel's limit and decide a few known calls.
func TestTestdataProfiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) < 3 {
		t.Fatalf("testdata has %d profiles", len(files))
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, a := range Arches() {
			if a.Name == specs.ArchX32 {
				continue
			}
			f, err := Compile(cfg, a)
			if err != nil {
				t.Fatalf("%s for %s: %v", file, a.Name, err)
			}
			if _, ok := a.Syscall("exit_group"); ok && strings.Contains(file, "docker") {
				wantRet(t, file+" exit_group on "+string(a.Name), sys(t, f, string(a.Name), "exit_group"), allow)
				wantRet(t, file+" kexec_load on "+string(a.Name), sys(t, f, string(a.Name), "kexec_load"), errno(1))
			}
		}
	}
}

func TestDump(t *testing.T) {
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`)
	var out bytes.Buffer
	if err := f.Dump(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"0000: ld  [4]", "jeq #0xc000003e", "ret #0x80000000", "ld  [0]",
		"jeq #83 ", "; mkdir", "; mkdirat", "ret #0x0005000d", "ERRNO(13)", "default action",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dump lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "\n"); n != len(f.Program)+1 {
		t.Errorf("dump has %d lines for %d instructions", n, len(f.Program))
	}
}

// podman's default profile allows setns, then lists it again as ERRNO:
// libseccomp (and so runc and crun) keeps the first rule without arguments.
func TestFirstRuleWithoutArgumentsWins(t *testing.T) {
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["setns", "getpid"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["setns", "bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
		{"names": ["bpf"], "action": "SCMP_ACT_KILL_PROCESS"}]}`)
	wantRet(t, "setns", sys(t, f, "amd64", "setns"), allow)
	wantRet(t, "getpid", sys(t, f, "amd64", "getpid"), allow)
	wantRet(t, "bpf", sys(t, f, "amd64", "bpf"), errno(1))
}

// A syscall newer than the profile fails with ENOSYS so that programs fall
// back to older calls; runc's patchbpf stub decides when it applies.
func TestUnknownSyscallsReturnENOSYS(t *testing.T) {
	const enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	x64, x86, x32 := mustArch(t, "SCMP_ARCH_X86_64"), mustArch(t, "SCMP_ARCH_X86"), mustArch(t, "SCMP_ARCH_X32")
	a64, s390 := mustArch(t, "SCMP_ARCH_AARCH64"), mustArch(t, "SCMP_ARCH_S390X")
	nr := func(a Arch, name string) uint32 {
		n, ok := a.Syscall(name)
		if !ok {
			t.Fatalf("%s: no %s", a.Name, name)
		}
		return n
	}
	const denyList = `"syscalls": [{"names": ["read", "write", "exit_group", "getpid"], "action": "SCMP_ACT_ALLOW"}, {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]`
	type probe struct {
		arch Arch
		nr   uint32
		want uint32
	}
	for _, tc := range []struct {
		name, native, profile string
		probes                []probe
	}{
		{"errno default", "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", ` + denyList + `}`, []probe{
			{x64, 1000, enosys},
			{x64, 0xffffff, enosys},
			{x64, nr(x64, "exit_group") + 1, enosys}, // known to the kernel, newer than the profile (runc does the same)
			{x64, nr(x64, "exit_group"), allow},      // the highest named keeps its action
			{x64, nr(x64, "getpid"), allow},
			{x64, nr(x64, "mkdir"), errno(13)},
			{x64, nr(x64, "chmod"), errno(1)}, // known, lower, not listed: the default
			{x32, nr(x32, "read"), kill},      // x32 not listed: bad arch, no stub
			{x32, x32SyscallBit + 1000, kill},
			{x86, 1000, kill}, // i386 not listed
			{a64, 1000, kill},
		}},
		{"kill default", "amd64", `{"defaultAction": "SCMP_ACT_KILL_PROCESS", ` + denyList + `}`, []probe{
			{x64, 1000, enosys},
			{x64, nr(x64, "chmod"), kill},
		}},
		{"trap default", "amd64", `{"defaultAction": "SCMP_ACT_TRAP", ` + denyList + `}`, []probe{
			{x64, 1000, enosys},
		}},
		{"allow default: no stub", "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", ` + denyList + `}`, []probe{
			{x64, 1000, allow},
			{x64, nr(x64, "mkdir"), errno(13)},
		}},
		{"log default: no stub", "amd64", `{"defaultAction": "SCMP_ACT_LOG", ` + denyList + `}`, []probe{
			{x64, 1000, unix.SECCOMP_RET_LOG},
		}},
		{"trace default: no stub", "amd64", `{"defaultAction": "SCMP_ACT_TRACE", ` + denyList + `}`, []probe{
			{x64, 1000, unix.SECCOMP_RET_TRACE | 1},
		}},
		{"no syscalls: no stub", "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}`, []probe{
			{x64, 1000, errno(1)},
		}},
		{"enosys default", "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, ` + denyList + `}`, []probe{
			{x64, 1000, enosys},
			{x64, nr(x64, "chmod"), enosys},
			{x64, nr(x64, "read"), allow},
		}},
		{"x86 multi-ABI", "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], ` + denyList + `}`, []probe{
			{x64, 1000, enosys},
			{x64, nr(x64, "chmod"), errno(1)},
			{x86, 1000, enosys},
			{x86, nr(x86, "exit_group"), allow},
			{x86, nr(x86, "chmod"), errno(1)},
			{x32, x32SyscallBit + 1000, enosys},
			{x32, nr(x32, "exit_group"), allow},
			{x32, nr(x32, "chmod"), errno(1)},
			{x64, 0xffffffff, enosys}, // nr -1 has the x32 bit: compared with x32's highest, as runc
		}},
		{"x86_64 only: -1 is not stubbed", "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", ` + denyList + `}`, []probe{
			{x64, 0xffffffff, errno(1)},
		}},
		{"arm64", "arm64", `{"defaultAction": "SCMP_ACT_ERRNO", ` + denyList + `}`, []probe{
			{a64, 1000, enosys},
			{a64, nr(a64, "read"), allow},
			{a64, nr(a64, "mkdirat"), errno(1)},
		}},
		{"s390x multiplexer", "s390x", `{"defaultAction": "SCMP_ACT_ERRNO", ` + denyList + `}`, []probe{
			{s390, 0, enosys},
			{s390, 1000, enosys},
			{s390, nr(s390, "read"), allow},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := compileJSON(t, tc.native, tc.profile)
			var sum strings.Builder
			f.Summary(&sum)
			if stub := len(f.LastSyscall) > 0; stub != strings.Contains(sum.String(), "newer than the profile): ERRNO(ENOSYS)") {
				t.Errorf("summary does not say whether the ENOSYS stub applies (%v):\n%s", stub, sum.String())
			}
			for _, p := range tc.probes {
				got := runBPF(t, f.Program, call{arch: p.arch.Audit, nr: p.nr}, f.Arch.BigEndian)
				wantRet(t, fmt.Sprintf("%s nr %#x", p.arch.Name, p.nr), got, p.want)
			}
		})
	}
}

// SCMP_ACT_NOTIFY rules return SECCOMP_RET_USER_NOTIF and make the filter
// ask for a listener fd; listenerPath alone changes nothing.
func TestNotify(t *testing.T) {
	const notif = unix.SECCOMP_RET_USER_NOTIF
	f := compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock", "listenerMetadata": "m",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
		{"names": ["chmod"], "action": "SCMP_ACT_NOTIFY", "args": [{"index": 1, "op": "SCMP_CMP_EQ", "value": 511}]}]}`)
	wantRet(t, "mkdir", sys(t, f, "amd64", "mkdir"), notif)
	wantRet(t, "chmod 0777", sys(t, f, "amd64", "chmod", 0, 0o777), notif)
	wantRet(t, "chmod 0755", sys(t, f, "amd64", "chmod", 0, 0o755), allow)
	wantRet(t, "getpid", sys(t, f, "amd64", "getpid"), allow)
	if f.Flags != unix.SECCOMP_FILTER_FLAG_NEW_LISTENER || strings.Join(f.FlagNames, ",") != "SECCOMP_FILTER_FLAG_NEW_LISTENER" {
		t.Errorf("flags %#x %v, want NEW_LISTENER only", f.Flags, f.FlagNames)
	}
	f = compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/a", "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
		"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}`)
	want := uint(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
	if f.Flags != want {
		t.Errorf("flags %#x, want %#x", f.Flags, want)
	}
	wantRet(t, "mkdir", sys(t, f, "amd64", "mkdir"), notif)
	f = compileJSON(t, "amd64", `{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}`)
	if f.Flags != 0 {
		t.Errorf("listenerPath without a notify rule: flags %#x, want 0", f.Flags)
	}
}

// TestSyscallTableCells: the packed table gives each kind of cell back
// as the kernel numbers it (plain, x32 bit, ARM private, absent).
func TestSyscallTableCells(t *testing.T) {
	for _, tt := range []struct {
		arch, name string
		nr         uint32
		ok         bool
	}{
		{"amd64", "read", 0, true},
		{"amd64", "_llseek", 0, false},
		{"x32", "read", 0x40000000, true},
		{"x32", "ioctl", 0x40000000 + 514, true},
		{"x32", "_sysctl", 0, false},
		{"arm", "breakpoint", 0xf0001, true},
		{"arm", "get_tls", 0xf0006, true},
		{"arm", "exit", 1, true},
		{"arm64", "arch_prctl", 0, false},
		{"mips", "read", 4003, true},
		{"mips64le", "read", 5000, true},
		{"s390x", "writev", 146, true},
		{"amd64", "no_such_syscall", 0, false},
		{"amd64", "writev", 20, true},
	} {
		a := mustArch(t, tt.arch)
		nr, ok := a.Syscall(tt.name)
		if nr != tt.nr || ok != tt.ok {
			t.Errorf("%s %s: got %#x %v, want %#x %v", tt.arch, tt.name, nr, ok, tt.nr, tt.ok)
		}
		if ok {
			if n, ok := a.SyscallName(nr); !ok || n != tt.name {
				t.Errorf("%s SyscallName(%#x) = %q %v, want %q", tt.arch, nr, n, ok, tt.name)
			}
		}
	}
}

// TestLookupArchSpellings: every GOARCH and uname -m spelling, any case,
// names its SCMP_ARCH; the spec's architectures without a table are
// refused as unsupported, other names as unknown.
func TestLookupArchSpellings(t *testing.T) {
	for _, tt := range []struct {
		name string
		want specs.Arch
		err  string
	}{
		{"amd64", specs.ArchX86_64, ""}, {"X86_64", specs.ArchX86_64, ""},
		{"386", specs.ArchX86, ""}, {"i386", specs.ArchX86, ""}, {"i686", specs.ArchX86, ""}, {"x86", specs.ArchX86, ""},
		{"x32", specs.ArchX32, ""}, {"arm64", specs.ArchAARCH64, ""}, {"aarch64", specs.ArchAARCH64, ""},
		{"arm", specs.ArchARM, ""}, {"riscv64", specs.ArchRISCV64, ""}, {"ppc64le", specs.ArchPPC64LE, ""},
		{"ppc64", specs.ArchPPC64, ""}, {"ppc", specs.ArchPPC, ""}, {"s390x", specs.ArchS390X, ""},
		{"mips", specs.ArchMIPS, ""}, {"mipsle", specs.ArchMIPSEL, ""}, {"mips64", specs.ArchMIPS64, ""},
		{"mips64le", specs.ArchMIPSEL64, ""}, {"loong64", specs.ArchLOONGARCH64, ""}, {"loongarch64", specs.ArchLOONGARCH64, ""},
		{"SCMP_ARCH_AARCH64", specs.ArchAARCH64, ""},
		{"SCMP_ARCH_S390", "", "is not supported by ctr-lite"},
		{"SCMP_ARCH_MIPS64N32", "", "is not supported by ctr-lite"},
		{"SCMP_ARCH_SHEB", "", "is not supported by ctr-lite"},
		{"vax", "", "unknown architecture"},
	} {
		a, err := LookupArch(tt.name)
		if a.Name != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("LookupArch(%q) = %s, %v; want %s, %q", tt.name, a.Name, err, tt.want, tt.err)
		}
	}
	for op, sym := range map[specs.LinuxSeccompOperator]string{
		specs.OpNotEqual: "!=", specs.OpLessThan: "<", specs.OpLessEqual: "<=", specs.OpEqualTo: "==",
		specs.OpGreaterEqual: ">=", specs.OpGreaterThan: ">", specs.OpMaskedEqual: "&", "SCMP_CMP_NOPE": "",
	} {
		if got, ok := opSymbol(op); got != sym || ok != (sym != "") {
			t.Errorf("opSymbol(%s) = %q, %v; want %q", op, got, ok, sym)
		}
	}
}
