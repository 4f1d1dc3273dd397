package seccomp

import (
	"runtime"
	"sort"
	"strings"

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

// specOnly says whether n is an architecture the runtime-spec names that
// ctr-lite has no syscall table for: a profile listing one is refused,
// not half-applied. A switch, not a map: nothing built at start or on
// first use, and less code.
func specOnly(n specs.Arch) bool {
	switch n {
	case specs.ArchMIPS64N32, specs.ArchMIPSEL64N32, specs.ArchS390,
		specs.ArchPARISC, specs.ArchPARISC64, specs.ArchM68K,
		specs.ArchSH, specs.ArchSHEB:
		return true
	}
	return false
}

// goarch maps a GOARCH (or a common uname -m spelling), lower case, to its
// SCMP_ARCH name.
func goarch(name string) (specs.Arch, bool) {
	switch name {
	case "amd64", "x86_64":
		return specs.ArchX86_64, true
	case "386", "i386", "i686", "x86":
		return specs.ArchX86, true
	case "x32":
		return specs.ArchX32, true
	case "arm64", "aarch64":
		return specs.ArchAARCH64, true
	case "arm":
		return specs.ArchARM, true
	case "riscv64":
		return specs.ArchRISCV64, true
	case "ppc64le":
		return specs.ArchPPC64LE, true
	case "ppc64":
		return specs.ArchPPC64, true
	case "ppc":
		return specs.ArchPPC, true
	case "s390x":
		return specs.ArchS390X, true
	case "mips":
		return specs.ArchMIPS, true
	case "mipsle":
		return specs.ArchMIPSEL, true
	case "mips64":
		return specs.ArchMIPS64, true
	case "mips64le":
		return specs.ArchMIPSEL64, true
	case "loong64", "loongarch64":
		return specs.ArchLOONGARCH64, true
	}
	return "", false
}

// LookupArch returns the ABI named name: an SCMP_ARCH_* name, a GOARCH
// ("amd64") or a uname -m spelling ("x86_64").
func LookupArch(name string) (Arch, error) {
	n := specs.Arch(name)
	if a, ok := goarch(strings.ToLower(name)); ok {
		n = a
	}
	for _, a := range arches {
		if a.Name == n {
			return a, nil
		}
	}
	if specOnly(n) {
		return Arch{}, errorf("architecture %s is not supported by ctr-lite (supported: %s)", name, supportedNames())
	}
	return Arch{}, errorf("unknown architecture %q (supported: %s)", name, supportedNames())
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
