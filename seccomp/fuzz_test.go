package seccomp

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The fuzz targets compile profiles and run the program in the test
// interpreter (runBPF) against refAction, a reference model written from
// the rules' meaning, not from the compiler's layout. Seeds: the profiles
// in testdata/ and the bad profiles the unit tests know, plus
// testdata/fuzz/<target>/. `make fuzz` runs each target for a while.

// refAction is what the kernel must do for call c under cfg compiled for
// native: libseccomp's semantics plus runc's ENOSYS stub.
func refAction(cfg *specs.LinuxSeccomp, native Arch, c call) uint32 {
	abis := []Arch{native}
	for _, n := range cfg.Architectures {
		a, _ := LookupArch(string(n))
		dup := false
		for _, o := range abis {
			dup = dup || o.Name == a.Name
		}
		if !dup {
			abis = append(abis, a)
		}
	}
	listed := func(name specs.Arch) (Arch, bool) {
		for _, a := range abis {
			if a.Name == name {
				return a, true
			}
		}
		return Arch{}, false
	}
	var group []Arch
	for _, a := range abis {
		if a.Audit == c.arch {
			group = append(group, a)
		}
	}
	if len(group) == 0 {
		return BadArchAction
	}
	def, _ := action(cfg.DefaultAction, cfg.DefaultErrnoRet)

	// The ENOSYS stub: the highest number any rule names, per ABI.
	last := func(a Arch) (uint32, bool) {
		var m uint32
		for _, s := range cfg.Syscalls {
			for _, n := range s.Names {
				if nr, ok := a.Syscall(n); ok && nr > m {
					m = nr
				}
			}
		}
		return m, m != 0
	}
	switch def & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_LOG, unix.SECCOMP_RET_TRACE:
	default:
		if def == retENOSYS {
			break
		}
		if c.arch == unix.AUDIT_ARCH_X86_64 {
			abi := specs.ArchX86_64
			if c.nr&x32SyscallBit != 0 {
				abi = specs.ArchX32
			}
			if a, ok := listed(abi); ok {
				if m, ok := last(a); ok && c.nr > m {
					return retENOSYS
				}
			}
			break
		}
		if m, ok := last(group[0]); ok && (c.nr > m || (group[0].Name == specs.ArchS390X && c.nr == 0)) {
			return retENOSYS
		}
	}

	abi := group[0]
	if c.arch == unix.AUDIT_ARCH_X86_64 {
		name := specs.ArchX86_64
		if c.nr&x32SyscallBit != 0 && c.nr != 0xffffffff {
			name = specs.ArchX32
		}
		a, ok := listed(name)
		if !ok {
			return BadArchAction
		}
		abi = a
	}

	// Rules: conditions of one rule AND, except that conditions repeating
	// an argument index OR (runc); argument rules first, in order; then
	// the first rule without arguments; then the default.
	type rule struct {
		act  uint32
		args []specs.LinuxSeccompArg
	}
	var cond []rule
	var uncond *uint32
	for _, s := range cfg.Syscalls {
		match := false
		for _, n := range s.Names {
			if nr, ok := abi.Syscall(n); ok && nr == c.nr {
				match = true
			}
		}
		if !match {
			continue
		}
		act, _ := action(s.Action, s.ErrnoRet)
		switch {
		case len(s.Args) == 0:
			if uncond == nil {
				uncond = &act
			}
		case repeatsIndex(s.Args):
			for _, a := range s.Args {
				cond = append(cond, rule{act, []specs.LinuxSeccompArg{a}})
			}
		default:
			cond = append(cond, rule{act, s.Args})
		}
	}
	for _, r := range cond {
		all := true
		for _, a := range r.args {
			arg, v, v2 := c.args[a.Index], a.Value, a.ValueTwo
			if abi.Bits == 32 {
				arg, v, v2 = uint64(uint32(arg)), uint64(uint32(v)), uint64(uint32(v2))
			}
			all = all && ref(a.Op, arg, v, v2)
		}
		if all {
			return r.act
		}
	}
	if uncond != nil {
		return *uncond
	}
	return def
}

// checkAgainstModel compiles cfg for native and, if it compiles, compares
// the program with refAction on the calls.
func checkAgainstModel(t *testing.T, cfg *specs.LinuxSeccomp, native Arch, calls []call) {
	t.Helper()
	f, err := Compile(cfg, native)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error is not one line: %q", err)
		}
		return
	}
	if len(f.Program) == 0 || len(f.Program) > maxInsns {
		t.Fatalf("program of %d instructions", len(f.Program))
	}
	for _, c := range calls {
		// The kernel writes seccomp_data in its own byte order, which is
		// that of every ABI it runs (a profile may list ABIs of the other
		// order: they never occur on this kernel, but are compiled).
		bigEndian := native.BigEndian
		for _, a := range f.Arches {
			if a.Audit == c.arch {
				bigEndian = a.BigEndian
			}
		}
		got := runBPF(t, f.Program, c, bigEndian)
		if want := refAction(cfg, native, c); got != want {
			var dump strings.Builder
			f.Dump(&dump)
			t.Fatalf("arch %#x nr %#x args %#x: filter says %s, the rules say %s\n%s", c.arch, c.nr, c.args, ActionString(got), ActionString(want), dump.String())
		}
	}
}

// probeCalls are calls worth asking about cfg: each named syscall on each
// ABI the profile or the native one has, with argument values at and
// around the rules' values, plus the numbers around the ENOSYS limit,
// the x32 bit, -1 and a foreign ABI.
func probeCalls(cfg *specs.LinuxSeccomp, native Arch, seed uint64) []call {
	abis := []Arch{native}
	for _, n := range cfg.Architectures {
		if a, err := LookupArch(string(n)); err == nil {
			abis = append(abis, a)
		}
	}
	var vals []uint64
	for _, s := range cfg.Syscalls {
		for _, a := range s.Args {
			vals = append(vals, a.Value, a.Value+1, a.Value-1, a.ValueTwo, a.Value&a.ValueTwo, a.Value|0xffffffff00000000)
		}
	}
	vals = append(vals, 0, seed, 0xffffffff, 1<<32)
	args := func(i int) [6]uint64 {
		var a [6]uint64
		for j := range a {
			a[j] = vals[(i+j*7+int(seed%13))%len(vals)]
		}
		return a
	}
	var calls []call
	i := 0
	for _, a := range abis {
		for _, s := range cfg.Syscalls {
			for _, n := range s.Names {
				if nr, ok := a.Syscall(n); ok {
					for k := 0; k < 3; k++ {
						calls = append(calls, call{arch: a.Audit, nr: nr, args: args(i)}, call{arch: a.Audit, nr: nr + 1, args: args(i + 1)})
						i++
					}
				}
			}
		}
		calls = append(calls, call{arch: a.Audit, nr: 0}, call{arch: a.Audit, nr: 1000}, call{arch: a.Audit, nr: 0xffffffff},
			call{arch: a.Audit, nr: x32SyscallBit + 1}, call{arch: a.Audit, nr: x32SyscallBit + 1000},
			call{arch: a.Audit, nr: uint32(seed)}, call{arch: a.Audit, nr: uint32(seed >> 32), args: args(i)})
	}
	calls = append(calls, call{arch: uint32(seed >> 8), nr: 1}, call{arch: unix.AUDIT_ARCH_AARCH64, nr: 1})
	// Big profiles (Docker's): a sample, so that one input stays fast.
	const max = 200
	if len(calls) > max {
		sample := make([]call, 0, max)
		step := len(calls) / max
		for i := int(seed % uint64(step)); i < len(calls) && len(sample) < max; i += step {
			sample = append(sample, calls[i])
		}
		calls = append(sample, calls[len(calls)-9:]...)
	}
	return calls
}

// FuzzCompileJSON: any JSON profile either fails with a one-line error or
// compiles to a program that does what its rules say.
func FuzzCompileJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "amd64", uint64(0))
		f.Add(data, "arm64", uint64(1))
	}
	for _, js := range []string{
		`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "frobnicate"], "action": "SCMP_ACT_ERRNO"}]}`,
		`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PARISC"]}`,
		`{"defaultAction": "SCMP_ACT_KILL", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "SCMP_CMP_GE", "value": 10}, {"index": 0, "op": "SCMP_CMP_LE", "value": 20}]}]}`,
		`{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}`,
		`{"defaultAction": "SCMP_ACT_NOTIFY"}`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}`,
		`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "op": "SCMP_CMP_EQ", "value": 1}]}]}`,
		`{"defaultAction": "SCMP_ACT_TRAP", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 1, "op": "SCMP_CMP_MASKED_EQ", "value": 18446744069414584320, "valueTwo": 4294967296}]}]}`,
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n\"syscalls\": [}",
	} {
		f.Add([]byte(js), "amd64", uint64(42))
		f.Add([]byte(js), "s390x", uint64(0x40000001))
	}
	f.Fuzz(func(t *testing.T, data []byte, native string, seed uint64) {
		a, err := LookupArch(native)
		if err != nil || a.Name == specs.ArchX32 {
			return
		}
		cfg, err := Decode(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("decode error is not one line: %q", err)
			}
			return
		}
		checkAgainstModel(t, cfg, a, probeCalls(cfg, a, seed))
	})
}

// Pools the structured target draws from: names that exist on some ABIs
// and not others, high and low numbers, argument-heavy calls.
var (
	fuzzNames = []string{"read", "write", "mkdir", "mkdirat", "chmod", "getpid", "clone", "socket", "personality",
		"exit_group", "openat", "kill", "ioctl", "close_range", "statx", "fchmodat2", "socketcall", "time", "setns"}
	fuzzActions = []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActKillProcess, specs.ActKillThread,
		specs.ActTrap, specs.ActLog, specs.ActTrace, specs.ActNotify, specs.ActKill}
	fuzzOps = []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual}
	fuzzArches = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM,
		specs.ArchS390X, specs.ArchPPC64, specs.ArchRISCV64, specs.ArchMIPSEL64}
)

// bytesReader hands out the fuzzer's bytes; zeros once they run out.
type bytesReader struct{ b []byte }

func (r *bytesReader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *bytesReader) u64() uint64 {
	var buf [8]byte
	n := copy(buf[:], r.b)
	r.b = r.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

func (r *bytesReader) pick(n int) int { return int(r.u8()) % n }

// genProfile builds a profile from the fuzzer's bytes: mostly valid, so
// that the fuzzer explores what the compiler emits rather than JSON.
func genProfile(r *bytesReader) (*specs.LinuxSeccomp, Arch) {
	native := fuzzArches[r.pick(len(fuzzArches))]
	if native == specs.ArchX32 {
		native = specs.ArchX86_64
	}
	a, _ := LookupArch(string(native))
	errnoRet := func() *uint {
		v := uint(r.u8())
		return &v
	}
	cfg := &specs.LinuxSeccomp{DefaultAction: fuzzActions[r.pick(len(fuzzActions)-1)], ListenerPath: "/agent.sock"}
	if cfg.DefaultAction == specs.ActErrno && r.u8()%2 == 0 {
		cfg.DefaultErrnoRet = errnoRet()
	}
	for n := r.pick(4); n > 0; n-- {
		cfg.Architectures = append(cfg.Architectures, fuzzArches[r.pick(len(fuzzArches))])
	}
	for n := r.pick(7); n > 0; n-- {
		s := specs.LinuxSyscall{Action: fuzzActions[r.pick(len(fuzzActions))]}
		for k := 1 + r.pick(3); k > 0; k-- {
			s.Names = append(s.Names, fuzzNames[r.pick(len(fuzzNames))])
		}
		if (s.Action == specs.ActErrno || s.Action == specs.ActTrace) && r.u8()%2 == 0 {
			s.ErrnoRet = errnoRet()
		}
		for k := r.pick(4); k > 0; k-- {
			s.Args = append(s.Args, specs.LinuxSeccompArg{Index: uint(r.pick(6)), Op: fuzzOps[r.pick(len(fuzzOps))],
				Value: r.u64(), ValueTwo: r.u64()})
		}
		cfg.Syscalls = append(cfg.Syscalls, s)
	}
	return cfg, a
}

// FuzzFilterMatchesModel: profiles built from the fuzzer's bytes; the
// program's answer for probe calls (and one call of the fuzzer's own)
// equals the reference model's.
func FuzzFilterMatchesModel(f *testing.F) {
	f.Add([]byte{0, 1, 3, 2, 5, 1, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0}, uint32(2), uint64(0), uint64(5))
	f.Add([]byte{1, 2, 2, 3, 4, 2, 1, 8, 2, 1, 1, 6, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint32(0x40000001), uint64(1<<32), uint64(7))
	f.Add([]byte("seccomp profiles of many shapes and sizes, with arguments"), uint32(1000), uint64(0xffffffff), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, nr uint32, arg0, arg1 uint64) {
		r := &bytesReader{b: data}
		cfg, native := genProfile(r)
		calls := probeCalls(cfg, native, arg0^arg1)
		calls = append(calls, call{arch: native.Audit, nr: nr, args: [6]uint64{arg0, arg1, arg0, arg1, arg1, arg0}})
		checkAgainstModel(t, cfg, native, calls)
	})
}
