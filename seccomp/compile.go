package seccomp

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Filter is a seccomp profile compiled to classic BPF for one native ABI.
// The kernel runs Program on every syscall the thread (and its children)
// makes, over a struct seccomp_data (<linux/seccomp.h>):
//
//	offset 0   int   nr      syscall number
//	offset 4   u32   arch    AUDIT_ARCH_* of the ABI used
//	offset 8   u64   instruction_pointer
//	offset 16  u64   args[6] (8 bytes each, in the kernel's byte order)
//
// and does what the returned SECCOMP_RET_* value says.
type Filter struct {
	// Arch is the native ABI: the one the program is built for.
	Arch Arch
	// Arches are the ABIs the program accepts, native first. A syscall
	// made through any other ABI kills the process (BadArchAction).
	Arches []Arch
	// Flags are the SECCOMP_FILTER_FLAG_* bits passed to seccomp(2).
	Flags uint
	// FlagNames are the flags as the profile named them.
	FlagNames []string
	// Default is the SECCOMP_RET_* value of a syscall no rule matches.
	Default uint32
	// LastSyscall is, per accepted ABI, the highest syscall number the
	// profile names there (x32 numbers include the x32 bit). A larger
	// number returns ENOSYS instead of Default (see enosysStub); nil when
	// the stub is not applied (permissive default action).
	LastSyscall map[specs.Arch]uint32
	// Rules counts, per accepted ABI, the syscall numbers with a rule.
	Rules map[specs.Arch]int
	// Absent lists, per accepted ABI, the profile's names that are no
	// syscall there (normal: profiles cover several architectures).
	Absent map[specs.Arch][]string
	// Program is the BPF program, at most 4096 (BPF_MAXINSNS) long.
	Program []unix.SockFilter
	// Comments explains each instruction of Program (see Dump).
	Comments []string
}

// BadArchAction is what the filter returns for a syscall made through an
// ABI the profile does not list (e.g. int 0x80 or x32 calls in an x86_64
// container). libseccomp's default is to kill the thread; ctr-lite kills
// the whole process so that no half-dead multi-threaded program survives.
const BadArchAction = unix.SECCOMP_RET_KILL_PROCESS

// maxInsns is BPF_MAXINSNS: the kernel refuses longer programs.
const maxInsns = 4096

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// Compile checks a linux.seccomp profile and compiles it for native.
// Errors name the field and value at fault. Names that are a syscall on no
// supported ABI are an error; names absent only on some ABIs are skipped
// there (see Filter.Absent), as libseccomp does.
func Compile(cfg *specs.LinuxSeccomp, native Arch) (*Filter, error) {
	if cfg == nil {
		return nil, errorf("no seccomp profile")
	}
	if cfg.DefaultAction == specs.ActNotify {
		// As runc: the init's own write to the runtime, which carries
		// the listener fd, would wait for a listener that has no fd yet.
		return nil, errorf("defaultAction: SCMP_ACT_NOTIFY cannot be the default action")
	}
	def, err := action(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, errorf("defaultAction: %w", err)
	}
	f := &Filter{Arch: native, Default: def, Rules: map[specs.Arch]int{}, Absent: map[specs.Arch][]string{}}
	if f.Arches, err = profileArches(native, cfg.Architectures); err != nil {
		return nil, err
	}
	rules, err := checkRules(cfg.Syscalls)
	if err != nil {
		return nil, err
	}
	notify := false
	for _, r := range rules {
		notify = notify || r.action == unix.SECCOMP_RET_USER_NOTIF
	}
	if cfg.ListenerMetadata != "" && cfg.ListenerPath == "" {
		// config-linux.md: listenerMetadata MUST NOT be set without it.
		return nil, errorf("listenerMetadata is set but listenerPath is not")
	}
	if notify && cfg.ListenerPath == "" {
		// config-linux.md: the listener fd goes to listenerPath; runc
		// fails the same profile ("listenerPath is not set").
		return nil, errorf("SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath (the socket the runtime sends the listener fd to)")
	}
	if f.Flags, f.FlagNames, err = filterFlags(cfg.Flags, notify); err != nil {
		return nil, err
	}
	f.LastSyscall = lastSyscalls(f.Arches, f.Default, rules)
	b := newBuilder()
	if err := f.emit(b, rules); err != nil {
		return nil, err
	}
	if f.Program, f.Comments, err = b.assemble(); err != nil {
		return nil, err
	}
	if len(f.Program) > maxInsns {
		return nil, errorf("the compiled filter has %d instructions, more than the kernel's limit of %d (BPF_MAXINSNS)", len(f.Program), maxInsns)
	}
	return f, nil
}

// rule is one checked syscalls[] entry.
type rule struct {
	index  int // in the profile, for errors
	names  []string
	action uint32
	args   []specs.LinuxSeccompArg
}

func checkRules(calls []specs.LinuxSyscall) ([]rule, error) {
	rules := make([]rule, 0, len(calls))
	for i, c := range calls {
		where := fmt.Sprintf("syscalls[%d]", i)
		if len(c.Names) == 0 {
			return nil, errorf("%s: no names", where)
		}
		for _, n := range c.Names {
			if !KnownSyscall(n) {
				return nil, errorf("%s: unknown syscall %q (not a syscall on any supported architecture)", where, n)
			}
		}
		act, err := action(c.Action, c.ErrnoRet)
		if err != nil {
			return nil, errorf("%s (%s): %w", where, c.Names[0], err)
		}
		for _, n := range c.Names {
			if act == unix.SECCOMP_RET_USER_NOTIF && (n == "write" || n == "sendmsg") {
				// As runc for write: the init sends the listener fd to
				// the runtime with sendmsg and its messages with write
				// after loading the filter; notified, they would wait
				// forever for a listener that never gets the fd.
				return nil, errorf("%s: SCMP_ACT_NOTIFY cannot be used for the %s syscall", where, n)
			}
		}
		for j, a := range c.Args {
			if a.Index > 5 {
				return nil, errorf("%s.args[%d]: index %d out of range: a syscall has 6 arguments (0-5)", where, j, a.Index)
			}
			if _, ok := opSymbol(a.Op); !ok {
				return nil, errorf("%s.args[%d]: unknown operator %q", where, j, a.Op)
			}
		}
		if !repeatsIndex(c.Args) {
			rules = append(rules, rule{index: i, names: c.Names, action: act, args: c.Args})
			continue
		}
		// As runc (libcontainer/seccomp, matchCall): when two conditions
		// test the same argument, every condition becomes a rule of its
		// own, so they OR instead of AND.
		for _, a := range c.Args {
			rules = append(rules, rule{index: i, names: c.Names, action: act, args: []specs.LinuxSeccompArg{a}})
		}
	}
	return rules, nil
}

// repeatsIndex reports whether two conditions test the same argument.
func repeatsIndex(args []specs.LinuxSeccompArg) bool {
	var seen [6]bool
	for _, a := range args {
		if seen[a.Index] {
			return true
		}
		seen[a.Index] = true
	}
	return false
}

// profileArches resolves architectures[]: the native ABI always comes
// first, as libseccomp adds it to every filter.
func profileArches(native Arch, names []specs.Arch) ([]Arch, error) {
	out := []Arch{native}
	for i, n := range names {
		a, err := LookupArch(string(n))
		if err != nil {
			return nil, errorf("architectures[%d]: %w", i, err)
		}
		dup := false
		for _, o := range out {
			dup = dup || o.Name == a.Name
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out, nil
}

// filterFlags maps the spec's flag names to SECCOMP_FILTER_FLAG_* bits.
// With notify (a SCMP_ACT_NOTIFY rule), SECCOMP_FILTER_FLAG_NEW_LISTENER
// is added: seccomp(2) then returns the listener fd.
func filterFlags(names []specs.LinuxSeccompFlag, notify bool) (uint, []string, error) {
	var bits uint
	var out []string
	for _, n := range names {
		switch n {
		case "SECCOMP_FILTER_FLAG_TSYNC":
			bits |= unix.SECCOMP_FILTER_FLAG_TSYNC
		case specs.LinuxSeccompFlagLog:
			bits |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			bits |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_NEW_LISTENER":
			// Both only mean something with a notification listener.
			if !notify {
				return 0, nil, errorf("flag %s needs a SCMP_ACT_NOTIFY rule", n)
			}
			if n == specs.LinuxSeccompFlagWaitKillableRecv {
				bits |= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
			}
		default:
			return 0, nil, errorf("unknown seccomp flag %q", n)
		}
		out = append(out, string(n))
	}
	if notify {
		bits |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if bits&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			// seccomp(2): TSYNC with NEW_LISTENER needs TSYNC_ESRCH
			// (both would use the return value).
			bits |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
		if !contains(out, "SECCOMP_FILTER_FLAG_NEW_LISTENER") {
			out = append(out, "SECCOMP_FILTER_FLAG_NEW_LISTENER")
		}
	}
	return bits, out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// action maps an SCMP_ACT_* name to the SECCOMP_RET_* value a filter
// returns (seccomp(2), "Filter return values").
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	if errnoRet != nil && a != specs.ActErrno && a != specs.ActTrace {
		return 0, errorf("errnoRet %d given for %s: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one", *errnoRet, a)
	}
	data := uint(unix.EPERM) // runc's default for ERRNO and TRACE
	if errnoRet != nil {
		data = *errnoRet
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActErrno:
		if data > 4095 { // MAX_ERRNO: larger values are not errors to libc
			return 0, errorf("errnoRet %d out of range (0-4095)", data)
		}
		return unix.SECCOMP_RET_ERRNO | uint32(data), nil
	case specs.ActTrace:
		if data > unix.SECCOMP_RET_DATA {
			return 0, errorf("errnoRet %d out of range for SCMP_ACT_TRACE (0-65535)", data)
		}
		return unix.SECCOMP_RET_TRACE | uint32(data), nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActNotify:
		// The syscall waits until the listener (linux.seccomp.listenerPath)
		// answers through SECCOMP_IOCTL_NOTIF_SEND.
		return unix.SECCOMP_RET_USER_NOTIF, nil
	case "":
		return 0, errorf("missing action")
	}
	return 0, errorf("unknown action %q", a)
}

// ActionString names a SECCOMP_RET_* value: "ALLOW", "ERRNO(1)".
func ActionString(ret uint32) string {
	data := ret & unix.SECCOMP_RET_DATA
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_KILL_PROCESS:
		return "KILL_PROCESS"
	case unix.SECCOMP_RET_KILL_THREAD:
		return "KILL_THREAD"
	case unix.SECCOMP_RET_TRAP:
		return "TRAP"
	case unix.SECCOMP_RET_ERRNO:
		return fmt.Sprintf("ERRNO(%d)", data)
	case unix.SECCOMP_RET_TRACE:
		return fmt.Sprintf("TRACE(%d)", data)
	case unix.SECCOMP_RET_LOG:
		return "LOG"
	case unix.SECCOMP_RET_ALLOW:
		return "ALLOW"
	case unix.SECCOMP_RET_USER_NOTIF:
		return "USER_NOTIF"
	}
	return fmt.Sprintf("%#x", ret)
}

// sysRules are the rules of one syscall number on one ABI. Rules with
// arguments are tried first, in profile order (they OR: the first that
// matches decides); then the one without arguments, if any; then the
// default action. This is libseccomp's precedence.
type sysRules struct {
	nr     uint32
	name   string
	cond   []rule
	uncond *uint32
}

// resolve groups the rules by syscall number on ABI a.
func (f *Filter) resolve(a Arch, rules []rule) ([]*sysRules, error) {
	var order []*sysRules
	byNr := map[uint32]*sysRules{}
	absent := map[string]bool{}
	for _, r := range rules {
		for _, n := range r.names {
			nr, ok := a.Syscall(n)
			if !ok {
				if !absent[n] {
					absent[n] = true
					f.Absent[a.Name] = append(f.Absent[a.Name], n)
				}
				continue
			}
			s := byNr[nr]
			if s == nil {
				s = &sysRules{nr: nr, name: n}
				byNr[nr] = s
				order = append(order, s)
			}
			if len(r.args) > 0 {
				s.cond = append(s.cond, r)
				continue
			}
			if s.uncond != nil {
				// libseccomp keeps the first rule without arguments and
				// ignores later ones (db.c: "existing filter is at least
				// as large"); podman's default profile relies on it
				// (setns allowed, then listed again as ERRNO).
				continue
			}
			act := r.action
			s.uncond = &act
		}
	}
	f.Rules[a.Name] = len(order)
	return order, nil
}

// emit writes the whole program: the architecture dispatch, then one
// section per ABI.
func (f *Filter) emit(b *builder, rules []rule) error {
	// ABIs sharing an AUDIT_ARCH value (x86_64 and x32) share a section.
	type group struct {
		audit uint32
		abis  []Arch
		at    label
	}
	var groups []*group
	for _, a := range f.Arches {
		var g *group
		for _, o := range groups {
			if o.audit == a.Audit {
				g = o
			}
		}
		if g == nil {
			g = &group{audit: a.Audit, at: b.label()}
			groups = append(groups, g)
		}
		g.abis = append(g.abis, a)
	}

	b.ld(offArch, "A = seccomp_data.arch")
	for _, g := range groups {
		b.jmp(unix.BPF_JEQ, g.audit, g.at, next, "arch is "+abiNames(g.abis))
	}
	b.ret(BadArchAction, ActionString(BadArchAction)+": architecture not in the profile")

	for _, g := range groups {
		b.bind(g.at)
		b.ld(offNr, "A = seccomp_data.nr")
		f.enosysStub(b, g.abis)
		if g.audit != unix.AUDIT_ARCH_X86_64 {
			if err := f.section(b, g.abis[0], rules); err != nil {
				return err
			}
			continue
		}
		if err := f.x86Section(b, g.abis, rules); err != nil {
			return err
		}
	}
	return nil
}

// x86Section splits AUDIT_ARCH_X86_64 calls into x86_64 and x32 ones by
// __X32_SYSCALL_BIT; the ABI the profile does not list is refused.
// nr -1 (a syscall a tracer skipped) is no x32 call.
func (f *Filter) x86Section(b *builder, abis []Arch, rules []rule) error {
	var x64, x32 *Arch
	for i := range abis {
		if abis[i].Name == specs.ArchX32 {
			x32 = &abis[i]
		} else {
			x64 = &abis[i]
		}
	}
	native, compat := b.label(), b.label()
	b.jmp(unix.BPF_JGE, x32SyscallBit, next, native, "x32 bit (0x40000000) set?")
	b.jmp(unix.BPF_JEQ, 0xffffffff, native, compat, "nr -1 is no x32 call")
	b.bind(native)
	if x64 == nil {
		b.ret(BadArchAction, ActionString(BadArchAction)+": x86_64 call, SCMP_ARCH_X86_64 not in the profile")
	} else if err := f.section(b, *x64, rules); err != nil {
		return err
	}
	b.bind(compat)
	if x32 == nil {
		b.ret(BadArchAction, ActionString(BadArchAction)+": x32 call, SCMP_ARCH_X32 not in the profile")
		return nil
	}
	return f.section(b, *x32, rules)
}

func abiNames(abis []Arch) string {
	s := make([]string, len(abis))
	for i, a := range abis {
		s[i] = string(a.Name)
	}
	return strings.Join(s, "/")
}

// section emits the rules of one ABI; A holds the syscall number. Every
// path ends in a ret, so sections can follow each other.
//
// Syscalls whose only rule has no arguments are checked first, grouped
// by action so that a run of "jeq" shares one "ret". Syscalls with
// argument rules get a block each: "jeq nr" skips the block when the
// number differs; inside, each rule's argument checks jump to the next
// rule on mismatch.
func (f *Filter) section(b *builder, a Arch, rules []rule) error {
	sys, err := f.resolve(a, rules)
	if err != nil {
		return err
	}
	var actions []uint32
	plain := map[uint32][]*sysRules{}
	var blocks []*sysRules
	for _, s := range sys {
		if s.uncond != nil && *s.uncond == f.Default {
			s.uncond = nil // same as falling through
		}
		switch {
		case len(s.cond) > 0:
			blocks = append(blocks, s)
		case s.uncond != nil:
			if _, ok := plain[*s.uncond]; !ok {
				actions = append(actions, *s.uncond)
			}
			plain[*s.uncond] = append(plain[*s.uncond], s)
		}
	}
	for _, act := range actions {
		list := plain[act]
		for len(list) > 0 {
			n := min(len(list), 200) // keep every jt within 255
			run := list[:n]
			list = list[n:]
			ret, skip := b.label(), b.label()
			for i, s := range run {
				if i == len(run)-1 {
					b.jmp(unix.BPF_JEQ, s.nr, next, skip, s.name)
				} else {
					b.jmp(unix.BPF_JEQ, s.nr, ret, next, s.name)
				}
			}
			b.bind(ret)
			b.ret(act, ActionString(act))
			b.bind(skip)
		}
	}
	for _, s := range blocks {
		after := b.label()
		b.jmp(unix.BPF_JEQ, s.nr, next, after, s.name)
		for _, r := range s.cond {
			fail := b.label()
			for _, c := range r.args {
				f.arg(b, a, c, fail)
			}
			b.ret(r.action, fmt.Sprintf("%s: syscalls[%d] matches", ActionString(r.action), r.index))
			b.bind(fail)
		}
		act, why := f.Default, "no rule matched"
		if s.uncond != nil {
			act, why = *s.uncond, "rule without arguments"
		}
		b.ret(act, ActionString(act)+": "+s.name+", "+why)
		b.bind(after)
	}
	b.ret(f.Default, ActionString(f.Default)+": default action ("+string(a.Name)+")")
	return nil
}

// retENOSYS is what a syscall newer than the profile returns.
const retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)

// lastSyscalls finds, per ABI, the highest syscall number named in the
// profile, for the ENOSYS stub. As runc (libcontainer/seccomp/patchbpf,
// generatePatch and findLastSyscalls): no stub when the default action
// lets calls through (ALLOW, LOG, TRACE: a tracer handles new syscalls
// itself) or already is ERRNO(ENOSYS); every name counts, whatever its
// action; an ABI where the profile names no syscall gets no stub.
func lastSyscalls(abis []Arch, def uint32, rules []rule) map[specs.Arch]uint32 {
	switch def & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_LOG, unix.SECCOMP_RET_TRACE:
		return nil
	}
	if def == retENOSYS {
		return nil
	}
	last := map[specs.Arch]uint32{}
	for _, a := range abis {
		for _, r := range rules {
			for _, n := range r.names {
				if nr, ok := a.Syscall(n); ok && nr > last[a.Name] {
					last[a.Name] = nr
				}
			}
		}
		if last[a.Name] == 0 {
			delete(last, a.Name)
		}
	}
	return last
}

// enosysStub emits, at the start of an ABI section (A holds the syscall
// number), the check that makes a syscall the profile cannot know about
// fail with ENOSYS rather than the default action: with EPERM or a kill,
// programs (glibc's clone3, statx, close_range...) would not fall back to
// an older call. runc >= 1.0.2 prepends the same stub to libseccomp's
// filter; this emits its logic inline:
//
//   - nr > the highest number the profile names on that ABI: ENOSYS. Every
//     syscall the profile names is <= that, so it keeps its action.
//   - x86_64 and x32 share AUDIT_ARCH_X86_64: a number with the x32 bit
//     (1<<30) is compared with x32's highest (only if x32 is listed), one
//     without it with x86_64's.
//   - s390x: syscall 0 (the multiplexer the kernel leaves unknown large
//     numbers at) also returns ENOSYS.
//
// The fall-through path leaves A unchanged.
func (f *Filter) enosysStub(b *builder, abis []Arch) {
	if f.LastSyscall == nil {
		return
	}
	if len(abis) == 1 && abis[0].Audit != unix.AUDIT_ARCH_X86_64 {
		a := abis[0]
		last, ok := f.LastSyscall[a.Name]
		if !ok {
			return
		}
		enosys, done := b.label(), b.label()
		if a.Name == specs.ArchS390X {
			b.jmp(unix.BPF_JEQ, 0, enosys, next, "nr 0: s390x multiplexer of syscalls unknown to the kernel")
		}
		b.jmp(unix.BPF_JGT, last, enosys, done, fmt.Sprintf("nr > %d: newer than the profile", last))
		b.bind(enosys)
		b.ret(retENOSYS, ActionString(retENOSYS)+": syscall unknown to the profile")
		b.bind(done)
		return
	}
	x64, has64 := uint32(0), false
	x32, has32 := uint32(0), false
	for _, a := range abis {
		if last, ok := f.LastSyscall[a.Name]; ok && a.Name == specs.ArchX32 {
			x32, has32 = last, true
		} else if ok {
			x64, has64 = last, true
		}
	}
	if !has64 && !has32 {
		return
	}
	enosys, done := b.label(), b.label()
	// An ABI without a highest number skips the stub.
	bit, nobit := done, done
	if has32 {
		bit = b.label()
	}
	if has64 {
		nobit = b.label()
	}
	b.jmp(unix.BPF_JSET, x32SyscallBit, bit, nobit, "x32 bit set?")
	if has64 {
		b.bind(nobit)
		b.jmp(unix.BPF_JGT, x64, enosys, done, fmt.Sprintf("nr > %d: newer than the profile (x86_64)", x64))
	}
	if has32 {
		b.bind(bit)
		b.jmp(unix.BPF_JGT, x32, enosys, done, fmt.Sprintf("nr > %#x: newer than the profile (x32)", x32))
	}
	b.bind(enosys)
	b.ret(retENOSYS, ActionString(retENOSYS)+": syscall unknown to the profile")
	b.bind(done)
}

// opSymbol is an argument comparison's symbol (libseccomp's enum
// scmp_compare); all compare unsigned 64-bit values. ok is false for an
// operator that is not one.
func opSymbol(op specs.LinuxSeccompOperator) (sym string, ok bool) {
	switch op {
	case specs.OpNotEqual:
		return "!=", true
	case specs.OpLessThan:
		return "<", true
	case specs.OpLessEqual:
		return "<=", true
	case specs.OpEqualTo:
		return "==", true
	case specs.OpGreaterEqual:
		return ">=", true
	case specs.OpGreaterThan:
		return ">", true
	case specs.OpMaskedEqual:
		return "&", true
	}
	return "", false
}

// opSym is opSymbol's symbol ("" for no operator).
func opSym(op specs.LinuxSeccompOperator) string {
	s, _ := opSymbol(op)
	return s
}

// arg emits the check of one argument condition; it falls through when
// the condition holds and jumps to fail when it does not.
//
// cBPF compares 32-bit words, so a 64-bit argument is compared as its
// high word, then (when the high words are equal) its low word.
func (f *Filter) arg(b *builder, a Arch, c specs.LinuxSeccompArg, fail label) {
	lo, hi := uint32(offArgs+8*c.Index), uint32(offArgs+8*c.Index+4)
	if a.BigEndian {
		lo, hi = hi, lo
	}
	vh, vl := uint32(c.Value>>32), uint32(c.Value)
	what := fmt.Sprintf("args[%d] %s %#x", c.Index, opSym(c.Op), c.Value)
	if c.Op == specs.OpMaskedEqual {
		what = fmt.Sprintf("args[%d] & %#x == %#x", c.Index, c.Value, c.ValueTwo)
	}
	if a.Bits == 32 {
		// Only the low word carries the argument of a 32-bit ABI.
		b.ld(lo, "A = "+fmt.Sprintf("args[%d]", c.Index)+" (32-bit ABI: low word only)")
		f.word(b, c.Op, vl, uint32(c.ValueTwo), next, fail, what)
		return
	}
	pass := b.label()
	b.ld(hi, fmt.Sprintf("A = args[%d] high word", c.Index))
	switch c.Op {
	case specs.OpEqualTo:
		b.jmp(unix.BPF_JEQ, vh, next, fail, what+" (high)")
	case specs.OpNotEqual:
		b.jmp(unix.BPF_JEQ, vh, next, pass, what+" (high differs: true)")
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		b.jmp(unix.BPF_JGT, vh, pass, next, what+" (high greater: true)")
		b.jmp(unix.BPF_JEQ, vh, next, fail, "high smaller: false")
	case specs.OpLessThan, specs.OpLessEqual:
		b.jmp(unix.BPF_JGE, vh, next, pass, what+" (high smaller: true)")
		b.jmp(unix.BPF_JEQ, vh, next, fail, "high greater: false")
	case specs.OpMaskedEqual:
		b.and(uint32(c.Value>>32), "A &= mask high word")
		b.jmp(unix.BPF_JEQ, uint32(c.ValueTwo>>32), next, fail, what+" (high)")
	}
	b.ld(lo, fmt.Sprintf("A = args[%d] low word", c.Index))
	f.word(b, c.Op, vl, uint32(c.ValueTwo), pass, fail, what+" (low)")
	b.bind(pass)
}

// word compares A (one 32-bit word) with v: to pass when the condition
// holds, to fail when not. For MASKED_EQ, v is the mask and v2 the value.
func (f *Filter) word(b *builder, op specs.LinuxSeccompOperator, v, v2 uint32, pass, fail label, what string) {
	switch op {
	case specs.OpEqualTo:
		b.jmp(unix.BPF_JEQ, v, pass, fail, what)
	case specs.OpNotEqual:
		b.jmp(unix.BPF_JEQ, v, fail, pass, what)
	case specs.OpGreaterThan:
		b.jmp(unix.BPF_JGT, v, pass, fail, what)
	case specs.OpGreaterEqual:
		b.jmp(unix.BPF_JGE, v, pass, fail, what)
	case specs.OpLessThan: // a < v  <=>  !(a >= v)
		b.jmp(unix.BPF_JGE, v, fail, pass, what)
	case specs.OpLessEqual: // a <= v  <=>  !(a > v)
		b.jmp(unix.BPF_JGT, v, fail, pass, what)
	case specs.OpMaskedEqual:
		b.and(v, "A &= mask")
		b.jmp(unix.BPF_JEQ, v2, pass, fail, what)
	}
}
