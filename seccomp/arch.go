package seccomp

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Arch is one syscall ABI as a seccomp filter sees it. The kernel fills
// seccomp_data.arch with the AUDIT_ARCH_* value of the ABI the syscall
// was made through (<linux/audit.h>), so one 64-bit kernel can receive
// calls from several ABIs: x86_64, i386 (int 0x80) and x32 on x86; AArch64
// and AArch32 on arm64.
type Arch struct {
	// Name is the OCI / libseccomp name, e.g. "SCMP_ARCH_X86_64".
	Name specs.Arch
	// Audit is the AUDIT_ARCH_* value the kernel puts in seccomp_data.arch.
	Audit uint32
	// Bits is 64 or 32: on a 32-bit ABI only the low word of an argument
	// is compared, as libseccomp does (the high word holds nothing).
	Bits int
	// BigEndian says where the high word of seccomp_data.args[i] is:
	// the kernel writes the u64 in its own byte order.
	BigEndian bool
}

// x32SyscallBit is __X32_SYSCALL_BIT: x32 calls arrive with
// AUDIT_ARCH_X86_64 and this bit set in the syscall number.
const x32SyscallBit = 0x40000000

// arches are the ABIs ctr-lite can compile filters for.
var arches = []Arch{
	{Name: specs.ArchX86_64, Audit: unix.AUDIT_ARCH_X86_64, Bits: 64},
	{Name: specs.ArchX86, Audit: unix.AUDIT_ARCH_I386, Bits: 32},
	// x32 passes 64-bit registers, so all 64 bits are compared.
	{Name: specs.ArchX32, Audit: unix.AUDIT_ARCH_X86_64, Bits: 64},
	{Name: specs.ArchAARCH64, Audit: unix.AUDIT_ARCH_AARCH64, Bits: 64},
	{Name: specs.ArchARM, Audit: unix.AUDIT_ARCH_ARM, Bits: 32},
	{Name: specs.ArchRISCV64, Audit: unix.AUDIT_ARCH_RISCV64, Bits: 64},
	{Name: specs.ArchPPC64LE, Audit: unix.AUDIT_ARCH_PPC64LE, Bits: 64},
	{Name: specs.ArchPPC64, Audit: unix.AUDIT_ARCH_PPC64, Bits: 64, BigEndian: true},
	{Name: specs.ArchPPC, Audit: unix.AUDIT_ARCH_PPC, Bits: 32, BigEndian: true},
	{Name: specs.ArchS390X, Audit: unix.AUDIT_ARCH_S390X, Bits: 64, BigEndian: true},
	{Name: specs.ArchMIPS, Audit: unix.AUDIT_ARCH_MIPS, Bits: 32, BigEndian: true},
	{Name: specs.ArchMIPSEL, Audit: unix.AUDIT_ARCH_MIPSEL, Bits: 32},
	{Name: specs.ArchMIPS64, Audit: unix.AUDIT_ARCH_MIPS64, Bits: 64, BigEndian: true},
	{Name: specs.ArchMIPSEL64, Audit: unix.AUDIT_ARCH_MIPSEL64, Bits: 64},
	{Name: specs.ArchLOONGARCH64, Audit: unix.AUDIT_ARCH_LOONGARCH64, Bits: 64},
}

// specOnly are architectures the runtime-spec names that ctr-lite has no
// syscall table for: a profile listing one is refused, not half-applied.
var specOnly = sync.OnceValue(func() map[specs.Arch]bool {
	return map[specs.Arch]bool{
		specs.ArchMIPS64N32: true, specs.ArchMIPSEL64N32: true, specs.ArchS390: true,
		specs.ArchPARISC: true, specs.ArchPARISC64: true, specs.ArchM68K: true,
		specs.ArchSH: true, specs.ArchSHEB: true,
	}
})

// goarches maps GOARCH (and common uname -m spellings) to SCMP_ARCH names.
var goarches = sync.OnceValue(func() map[string]specs.Arch {
	return map[string]specs.Arch{
		"amd64": specs.ArchX86_64, "x86_64": specs.ArchX86_64,
		"386": specs.ArchX86, "i386": specs.ArchX86, "i686": specs.ArchX86, "x86": specs.ArchX86,
		"x32":   specs.ArchX32,
		"arm64": specs.ArchAARCH64, "aarch64": specs.ArchAARCH64,
		"arm":     specs.ArchARM,
		"riscv64": specs.ArchRISCV64,
		"ppc64le": specs.ArchPPC64LE, "ppc64": specs.ArchPPC64, "ppc": specs.ArchPPC,
		"s390x": specs.ArchS390X,
		"mips":  specs.ArchMIPS, "mipsle": specs.ArchMIPSEL,
		"mips64": specs.ArchMIPS64, "mips64le": specs.ArchMIPSEL64,
		"loong64": specs.ArchLOONGARCH64, "loongarch64": specs.ArchLOONGARCH64,
	}
})

// LookupArch returns the ABI named name: an SCMP_ARCH_* name, a GOARCH
// ("amd64") or a uname -m spelling ("x86_64").
func LookupArch(name string) (Arch, error) {
	n := specs.Arch(name)
	if a, ok := goarches()[strings.ToLower(name)]; ok {
		n = a
	}
	for _, a := range arches {
		if a.Name == n {
			return a, nil
		}
	}
	if specOnly()[n] {
		return Arch{}, fmt.Errorf("architecture %s is not supported by ctr-lite (supported: %s)", name, supportedNames())
	}
	return Arch{}, fmt.Errorf("unknown architecture %q (supported: %s)", name, supportedNames())
}

// NativeArch is the ABI this binary runs as: the one every filter it
// compiles for the host accepts.
func NativeArch() (Arch, error) {
	return LookupArch(runtime.GOARCH)
}

// Arches lists the supported ABIs.
func Arches() []Arch { return append([]Arch(nil), arches...) }

func supportedNames() string {
	s := make([]string, len(arches))
	for i, a := range arches {
		s[i] = string(a.Name)
	}
	return strings.Join(s, ", ")
}

// Syscall returns the number of the syscall name on this ABI, as the
// kernel puts it in seccomp_data.nr (with the x32 bit for x32).
func (a Arch) Syscall(name string) (uint32, bool) {
	i, c := lookupSyscall(name), a.column()
	if i < 0 || c < 0 {
		return 0, false
	}
	return syscallNr(i, c)
}

// SyscallName returns the name of syscall number nr on this ABI.
func (a Arch) SyscallName(nr uint32) (string, bool) {
	c := a.column()
	if c < 0 {
		return "", false
	}
	for i := range syscallNrs {
		if v, ok := syscallNr(i, c); ok && v == nr {
			return syscallName(i), true
		}
	}
	return "", false
}

// column is the ABI's column in the generated syscallTable (-1: none).
func (a Arch) column() int {
	for c, n := range tableArches {
		if specs.Arch(n) == a.Name {
			return c
		}
	}
	return -1
}

// KnownSyscall says whether name is a syscall on any supported ABI.
func KnownSyscall(name string) bool { return lookupSyscall(name) >= 0 }

// lookupSyscall returns the index of name in the table, or -1.
func lookupSyscall(name string) int {
	i := sort.Search(len(syscallNameEnd), func(i int) bool { return syscallName(i) >= name })
	if i < len(syscallNameEnd) && syscallName(i) == name {
		return i
	}
	return -1
}
