// Command gen writes seccomp/zsyscalls.go: the syscall name -> number table
// of every architecture the seccomp package compiles filters for.
//
// The numbers come from golang.org/x/sys/unix's zsysnum_linux_<goarch>.go
// (themselves generated from the kernel's <asm/unistd.h>), read from the
// module cache at the version go.mod requires. Two ABIs have no file there
// and are derived here:
//   - x32 (SCMP_ARCH_X32): the x86_64 numbers with __X32_SYSCALL_BIT
//     (0x40000000) set, minus the entries the kernel marks "64" only in
//     arch/x86/entry/syscalls/syscall_64.tbl, plus the x32 compat entries
//     512-547 that replace some of them.
//   - the ARM private syscalls (__ARM_NR_BASE 0x0f0000 + n in
//     arch/arm/include/uapi/asm/unistd.h), which libseccomp also knows.
//
// Run it with `go generate ./seccomp/`.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// arches is the column order of the table: SCMP_ARCH name and x/sys GOARCH
// ("" for a derived ABI).
var arches = []struct{ name, goarch string }{
	{"SCMP_ARCH_X86_64", "amd64"},
	{"SCMP_ARCH_X86", "386"},
	{"SCMP_ARCH_X32", ""},
	{"SCMP_ARCH_AARCH64", "arm64"},
	{"SCMP_ARCH_ARM", "arm"},
	{"SCMP_ARCH_RISCV64", "riscv64"},
	{"SCMP_ARCH_PPC64LE", "ppc64le"},
	{"SCMP_ARCH_PPC64", "ppc64"},
	{"SCMP_ARCH_PPC", "ppc"},
	{"SCMP_ARCH_S390X", "s390x"},
	{"SCMP_ARCH_MIPS", "mips"},
	{"SCMP_ARCH_MIPSEL", "mipsle"},
	{"SCMP_ARCH_MIPS64", "mips64"},
	{"SCMP_ARCH_MIPSEL64", "mips64le"},
	{"SCMP_ARCH_LOONGARCH64", "loong64"},
}

const x32Bit = 0x40000000

// x32Only64 are the syscall_64.tbl entries of ABI "64": not callable from x32.
var x32Only64 = []string{
	"_sysctl", "create_module", "epoll_ctl_old", "epoll_wait_old",
	"get_kernel_syms", "get_thread_area", "nfsservctl", "query_module",
	"set_thread_area", "uselib", "vserver",
}

// x32Compat are the syscall_64.tbl entries of ABI "x32" (512-547): x32 calls
// these numbers instead of the x86_64 ones, whose pointers are 64-bit.
var x32Compat = []string{
	"rt_sigaction", "rt_sigreturn", "ioctl", "readv", "writev", "recvfrom",
	"sendmsg", "recvmsg", "execve", "ptrace", "rt_sigpending",
	"rt_sigtimedwait", "rt_sigqueueinfo", "sigaltstack", "timer_create",
	"mq_notify", "kexec_load", "waitid", "set_robust_list",
	"get_robust_list", "vmsplice", "move_pages", "preadv", "pwritev",
	"rt_tgsigqueueinfo", "recvmmsg", "sendmmsg", "process_vm_readv",
	"process_vm_writev", "setsockopt", "getsockopt", "io_setup",
	"io_submit", "execveat", "preadv2", "pwritev2",
}

// armPrivate are __ARM_NR_BASE (0x0f0000) + n.
var armPrivate = map[string]int64{
	"breakpoint": 0x0f0001, "cacheflush": 0x0f0002, "usr26": 0x0f0003,
	"usr32": 0x0f0004, "set_tls": 0x0f0005, "get_tls": 0x0f0006,
}

// skip are x/sys constants that are not syscalls.
var skip = map[string]bool{"syscall_mask": true}

var line = regexp.MustCompile(`^\s+SYS_([A-Z0-9_]+)\s+=\s+([0-9]+)\s*$`)

func main() {
	out := flag.String("o", "zsyscalls.go", "output file")
	flag.Parse()
	dir, version, err := xsys()
	if err != nil {
		log.Fatal(err)
	}
	tables := make([]map[string]int64, len(arches))
	for i, a := range arches {
		if a.goarch == "" {
			continue
		}
		if tables[i], err = parse(filepath.Join(dir, "unix", "zsysnum_linux_"+a.goarch+".go")); err != nil {
			log.Fatal(err)
		}
	}
	tables[2], err = x32(tables[0])
	if err != nil {
		log.Fatal(err)
	}
	for n, nr := range armPrivate {
		tables[4][n] = nr
	}
	src, err := render(tables, version)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// xsys returns the module cache directory and version of golang.org/x/sys.
func xsys() (string, string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "golang.org/x/sys").Output()
	if err != nil {
		return "", "", fmt.Errorf("go list golang.org/x/sys: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", "", fmt.Errorf("go list golang.org/x/sys: unexpected output %q", out)
	}
	return f[0], f[1], nil
}

func parse(path string) (map[string]int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name := strings.ToLower(m[1])
		if skip[name] {
			continue
		}
		nr, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, m[1], err)
		}
		if _, dup := t[name]; dup {
			return nil, fmt.Errorf("%s: %s twice", path, name)
		}
		t[name] = nr
	}
	if len(t) < 250 {
		return nil, fmt.Errorf("%s: only %d syscalls found", path, len(t))
	}
	return t, sc.Err()
}

func x32(amd64 map[string]int64) (map[string]int64, error) {
	t := map[string]int64{}
	for n, nr := range amd64 {
		t[n] = nr | x32Bit
	}
	for _, n := range x32Only64 {
		if _, ok := t[n]; !ok {
			return nil, fmt.Errorf("x32: %s is not an x86_64 syscall", n)
		}
		delete(t, n)
	}
	for i, n := range x32Compat {
		if _, ok := t[n]; !ok {
			return nil, fmt.Errorf("x32: %s is not an x86_64 syscall", n)
		}
		t[n] = (512 + int64(i)) | x32Bit
	}
	return t, nil
}

func render(tables []map[string]int64, version string) ([]byte, error) {
	names := map[string]bool{}
	for _, t := range tables {
		for n := range t {
			names[n] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)

	// Each number is stored as a uint16 less its column's base (x32's
	// __X32_SYSCALL_BIT), ARM's private ones as nrARMPrivate+n: 2 bytes a
	// cell instead of 4, and the names as one string with end offsets,
	// instead of a string header each (-23 KB of binary).
	base := make([]int64, len(arches))
	for i, a := range arches {
		if a.name == "SCMP_ARCH_X32" {
			base[i] = x32Bit
		}
	}
	const nrARMPrivate, nrAbsent, armBase = 0xff00, 0xffff, 0x0f0000
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by go run ./internal/gen from golang.org/x/sys %s; DO NOT EDIT.\n\n", version)
	fmt.Fprintf(&b, "package seccomp\n\n")
	fmt.Fprintf(&b, "// tableArches is the column order of syscallNrs.\n")
	fmt.Fprintf(&b, "var tableArches = [...]string{\n")
	for _, a := range arches {
		fmt.Fprintf(&b, "\t%q,\n", a.name)
	}
	fmt.Fprintf(&b, "}\n\n")
	fmt.Fprintf(&b, "// tableBase is added to each number of a column of syscallNrs.\n")
	fmt.Fprintf(&b, "var tableBase = [...]uint32{")
	for i, v := range base {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%#x", v)
	}
	fmt.Fprintf(&b, "}\n\n")
	fmt.Fprintf(&b, "// syscallNames is every syscall name known on some architecture, sorted,\n")
	fmt.Fprintf(&b, "// one after another; name i ends at syscallNameEnd[i].\n")
	fmt.Fprintf(&b, "const syscallNames = %q\n\n", strings.Join(sorted, ""))
	fmt.Fprintf(&b, "var syscallNameEnd = [...]uint16{")
	end := 0
	for i, n := range sorted {
		if i%16 == 0 {
			b.WriteString("\n\t")
		} else {
			b.WriteString(" ")
		}
		end += len(n)
		if end > 0xffff {
			return nil, fmt.Errorf("syscall names: %d bytes do not fit uint16 offsets", end)
		}
		fmt.Fprintf(&b, "%d,", end)
	}
	fmt.Fprintf(&b, "\n}\n\n")
	fmt.Fprintf(&b, "// syscallNrs[i][c] is the number of syscall i (syscallNames) in column c\n")
	fmt.Fprintf(&b, "// of tableArches less tableBase[c]; nrAbsent: none; nrARMPrivate+n:\n")
	fmt.Fprintf(&b, "// __ARM_NR_BASE (0xf0000) + n.\n")
	fmt.Fprintf(&b, "var syscallNrs = [...][%d]uint16{\n", len(arches))
	for _, n := range sorted {
		b.WriteString("\t{")
		for i, t := range tables {
			if i > 0 {
				b.WriteString(", ")
			}
			nr, ok := t[n]
			switch {
			case !ok:
				b.WriteString("nrAbsent")
			case arches[i].name == "SCMP_ARCH_ARM" && nr > armBase && nr < armBase+0x100:
				fmt.Fprintf(&b, "nrARMPrivate + %d", nr-armBase)
			case nr-base[i] >= 0 && nr-base[i] < nrARMPrivate:
				fmt.Fprintf(&b, "%d", nr-base[i])
			default:
				return nil, fmt.Errorf("%s: %s %#x does not fit the table", arches[i].name, n, nr)
			}
		}
		fmt.Fprintf(&b, "}, // %s\n", n)
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}
