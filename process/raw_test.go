package process

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// said is the explain lines of p: one per Go step.
func said(p *raw.Prog) []string {
	var out []string
	for i, o := range p.Ops {
		if o.SayLen != 0 { // Add made Say of this line
			out = append(out, "explain: "+p.Steps[i].String()+"\n")
		}
	}
	return out
}

func goSaid(steps []step.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, "explain: "+s.String()+"\n")
	}
	return out
}

func rawTestConfig() (Config, *Resolved) {
	oom := 100
	umask := uint32(0o22)
	cfg := Config{
		Process: specs.Process{
			Args: []string{"sh", "-c", "true"},
			Env:  []string{"PATH=/bin:/usr/bin"},
			Cwd:  "/work",
			User: specs.User{UID: 1000, GID: 1000, Umask: &umask},
			Rlimits: []specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200},
				{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
			},
			OOMScoreAdj:     &oom,
			NoNewPrivileges: true,
		},
		Hostname:   "h",
		Domainname: "d",
		Sysctl:     map[string]string{"net.ipv4.ip_forward": "1"},
		Namespaces: []specs.LinuxNamespace{{Type: specs.UTSNamespace}, {Type: specs.NetworkNamespace}},
		KeepFDs:    []int{3, 5},
		ChownStdio: true,
	}
	r := &Resolved{UID: 1000, GID: 1000, Groups: []uint32{10}, Home: "/", Args: cfg.Process.Args, Env: cfg.Process.Env}
	return cfg, r
}

// The raw program explains itself with the Go steps' lines, in their
// order: the hooks at the same places, the program lookup first (the Go
// init resolves before its steps), oom_score_adj through "self".
func TestRawStepsExplainAsGoSteps(t *testing.T) {
	cfg, r := rawTestConfig()
	hook := func(name string) step.Step { return step.Step{Op: "hook", Args: name} }
	gcfg := cfg
	gcfg.BeforeUser = []step.Step{hook("before")}
	gcfg.AfterUser = []step.Step{hook("after")}
	gcfg.Last = []step.Step{hook("last")}
	goSteps := StepsFor(gcfg, r)
	want := goSaid(goSteps[:len(goSteps)-1]) // not execve
	pid := strconv.Itoa(os.Getpid())
	for i := range want {
		want[i] = strings.Replace(want[i], "/proc/"+pid+"/oom_score_adj", "/proc/self/oom_score_adj", 1)
	}
	want = append([]string{"explain: lookup(\"sh\")  # the program, as the container's root shows it\n"}, want...)

	rh := func(name string) func(*raw.Prog) error {
		return func(p *raw.Prog) error { p.Sys(hook(name), unix.SYS_GETPID); return nil }
	}
	cfg.Raw = RawHooks{BeforeUser: rh("before"), AfterUser: rh("after"), Last: rh("last")}
	p := &raw.Prog{Explain: true}
	if err := RawSteps(cfg, r, p); err != nil {
		t.Fatal(err)
	}
	got := said(p)
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("raw explains:\n%s\nGo steps:\n%s", strings.Join(got, ""), strings.Join(want, ""))
	}
	if r.PathReg == 0 {
		t.Error("no register for the program's path")
	}
	for i, o := range p.Ops {
		if (o.Trap == raw.Goto || o.Else != [2]syscall.Errno{}) && (o.Jump <= int32(i) || int(o.Jump) > len(p.Ops)) {
			t.Errorf("op %d (%s) jumps to %d", i, p.Steps[i], o.Jump)
		}
	}
}

// opsOf are the ops of p as "trap args..." lines, registers as rN.
func opsOf(p *raw.Prog) []string {
	names := map[uintptr]string{
		raw.Goto: "goto", raw.Set: "set", raw.Eq: "eq", raw.Fail: "fail",
		unix.SYS_CLOSE_RANGE: "close_range", unix.SYS_FCNTL: "fcntl", unix.SYS_CHDIR: "chdir",
		unix.SYS_GETCWD: "getcwd", sysFchown: "fchown", unix.SYS_PRCTL: "prctl", sysSetgroups: "setgroups",
		sysSetresgid: "setresgid", sysSetresuid: "setresuid", unix.SYS_FACCESSAT: "faccessat",
		unix.SYS_OPENAT: "openat", unix.SYS_OPENAT2: "openat2", unix.SYS_CLOSE: "close", unix.SYS_WRITE: "write",
		unix.SYS_PRLIMIT64: "prlimit64", unix.SYS_PERSONALITY: "personality", unix.SYS_IOPRIO_SET: "ioprio_set", unix.SYS_KEYCTL: "keyctl", unix.SYS_RT_SIGACTION: "rt_sigaction",
	}
	var out []string
	for i, o := range p.Ops {
		n := names[o.Trap]
		if n == "" {
			n = fmt.Sprint(o.Trap)
		}
		if n == "fstatfs" || o.Trap == unix.SYS_FSTATFS {
			n = "fstatfs"
		}
		s := fmt.Sprintf("%d %s", i, n)
		if o.If != 0 {
			s += fmt.Sprintf(" if r%d", o.If)
		}
		if o.Else != [2]syscall.Errno{} || o.Trap == raw.Goto {
			s += fmt.Sprintf(" ->%d", o.Jump)
		}
		if o.Out != 0 {
			s += fmt.Sprintf(" >r%d", o.Out)
		}
		out = append(out, s)
	}
	return out
}

// anyArg is an argument a test does not check (a pointer).
const anyArg = ^uintptr(0) - 12345

func TestRawOpLists(t *testing.T) {
	tests := []struct {
		name  string
		build func(p *raw.Prog) error
		ops   []string
		args  map[int][]uintptr // op index: its first args
	}{
		{"cloexec keeps 3 and 5", func(p *raw.Prog) error { cloexecRaw(p, []int{3, 5}); return nil },
			[]string{"0 close_range", "1 close_range", "2 fcntl", "3 fcntl"},
			map[int][]uintptr{0: {4, 4, unix.CLOSE_RANGE_CLOEXEC}, 1: {6, uintptr(^uint32(0)), unix.CLOSE_RANGE_CLOEXEC}, 2: {3, unix.F_SETFD, 0}, 3: {5, unix.F_SETFD, 0}}},
		{"cloexec keeps nothing", func(p *raw.Prog) error { cloexecRaw(p, nil); return nil },
			[]string{"0 close_range"}, map[int][]uintptr{0: {3, uintptr(^uint32(0))}}},
		{"chdir as root, then again as the user", func(p *raw.Prog) error {
			c := &chdirState{path: "/w"}
			retry, err := chdirRaw(p, c.first(), "/w", 0)
			if err != nil {
				return err
			}
			_, err = chdirRaw(p, c.retry(), "/w", retry)
			return err
		}, []string{"0 chdir ->4", "1 getcwd", "2 eq", "3 goto ->5", "4 set >r4", "5 chdir if r4", "6 getcwd if r4", "7 eq if r4"},
			map[int][]uintptr{2: {0, '/', uintptr(unix.ENOENT), 1}, 4: {1}}},
		{"stdio: only what the Go step would chown", func(p *raw.Prog) error {
			stdioOwnerRaw(p, 1000, [3]StdioFile{{Known: true, Null: true}, {}, {Known: true, UID: 1000}})
			return nil
		}, []string{"0 fchown ->1"}, map[int][]uintptr{0: {1, 1000, uintptr(^uint32(0))}}},
		{"stdio: nothing to chown is still shown", func(p *raw.Prog) error {
			stdioOwnerRaw(p, 0, [3]StdioFile{{Known: true, Closed: true}, {Known: true}, {Known: true}})
			return nil
		}, []string{"0 goto ->1"}, nil},
		{"user change", func(p *raw.Prog) error {
			return userRaw(p, &Resolved{UID: 7, GID: 8, Groups: []uint32{1, 2}}, false)
		}, []string{"0 prctl", "1 setgroups", "2 setresgid", "3 setresuid", "4 prctl"},
			map[int][]uintptr{0: {unix.PR_SET_KEEPCAPS, 1}, 1: {2}, 2: {8, 8, 8}, 3: {7, 7, 7}, 4: {unix.PR_SET_KEEPCAPS, 0}}},
		{"user change, setgroups denied", func(p *raw.Prog) error {
			return userRaw(p, &Resolved{UID: 7, GID: 8}, true)
		}, []string{"0 prctl", "1 goto ->2", "2 setresgid", "3 setresuid", "4 prctl"}, nil},
		{"lookup in $PATH", func(p *raw.Prog) error {
			_, err := LookPathRaw(p, "sh", []string{"PATH=/a:"})
			return err
		}, []string{"0 faccessat ->5", "1 faccessat ->3", "2 goto ->5", "3 set >r4", "4 goto ->11",
			"5 faccessat ->10", "6 faccessat ->8", "7 goto ->10", "8 set >r4", "9 goto ->11", "10 fail"},
			map[int][]uintptr{0: {atFDCWD}, 10: {uintptr(unix.ENOENT)}}},
		{"lookup of a path", func(p *raw.Prog) error {
			_, err := LookPathRaw(p, "/bin/sh", nil)
			return err
		}, []string{"0 faccessat ->2", "1 fail", "2 faccessat", "3 set >r4"},
			map[int][]uintptr{0: {atFDCWD}, 1: {uintptr(unix.EISDIR)}, 2: {atFDCWD}}},
		{"oom_score_adj through a checked procfs", func(p *raw.Prog) error {
			return procWriteRaw(p, step.Step{Op: "write"}, "/proc", "self/oom_score_adj", "5", procViaSelf, nil)
		}, []string{"0 openat >r4", "1 fstatfs", "2 eq", "3 openat2 >r5", "4 close", "5 fstatfs", "6 eq", "7 write", "8 close"},
			map[int][]uintptr{0: {atFDCWD}, 2: {anyArg, unix.PROC_SUPER_MAGIC}, 7: {anyArg, anyArg, 1}}},
		{"personality and ioprio", func(p *raw.Prog) error {
			return AttrRaw(p, &specs.LinuxPersonality{Domain: specs.PerLinux32}, &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 7})
		}, []string{"0 personality", "1 ioprio_set"}, map[int][]uintptr{0: {perLinux32}, 1: {ioprioWhoProcess, 0, 3<<13 | 7}}},
		{"LSM labels", func(p *raw.Prog) error {
			return LSMRaw(p, &specs.Process{ApparmorProfile: "prof", SelinuxLabel: "lab"})
		}, []string{"0 openat >r4", "1 fstatfs", "2 eq", "3 openat2 >r5", "4 close", "5 fstatfs", "6 eq", "7 write", "8 close",
			"9 openat >r6", "10 fstatfs", "11 eq", "12 openat2 >r7", "13 close", "14 fstatfs", "15 eq", "16 write", "17 close"},
			map[int][]uintptr{7: {anyArg, anyArg, uintptr(len("exec prof"))}, 16: {anyArg, anyArg, 3}}},
		{"keyring", func(p *raw.Prog) error { return SessionKeyringRaw(p, "c1") },
			[]string{"0 keyctl ->2 >r4", "1 keyctl"},
			map[int][]uintptr{0: {unix.KEYCTL_JOIN_SESSION_KEYRING}, 1: {unix.KEYCTL_SETPERM, 0, 0x3f1b0000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &raw.Prog{}
			if err := tt.build(p); err != nil {
				t.Fatal(err)
			}
			got := opsOf(p)
			if strings.Join(got, "\n") != strings.Join(tt.ops, "\n") {
				t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.ops, "\n"))
			}
			for i, want := range tt.args {
				if i >= len(p.Ops) {
					continue
				}
				for k, w := range want {
					if a := p.Ops[i].Args[k]; a != w && w != anyArg {
						t.Errorf("op %d arg %d = %#x, want %#x", i, k, a, w)
					}
				}
			}
			if len(p.Ops) != len(p.Steps) {
				t.Errorf("%d ops, %d steps", len(p.Ops), len(p.Steps))
			}
		})
	}
}

// The attribute and LSM ops explain themselves with the Go steps' lines.
func TestRawAttrsExplainAsGoSteps(t *testing.T) {
	pers := &specs.LinuxPersonality{Domain: specs.PerLinux}
	io := &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 0}
	pr := &specs.Process{ApparmorProfile: "prof", SelinuxLabel: "lab"}
	attrs, err := AttrSteps(pers, io)
	if err != nil {
		t.Fatal(err)
	}
	want := goSaid(append(append(attrs, LSMSteps(pr)...), SessionKeyringStep("x")))
	p := &raw.Prog{Explain: true}
	if err := AttrRaw(p, pers, io); err != nil {
		t.Fatal(err)
	}
	if err := LSMRaw(p, pr); err != nil {
		t.Fatal(err)
	}
	if err := SessionKeyringRaw(p, "x"); err != nil {
		t.Fatal(err)
	}
	if got := said(p); strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("raw explains:\n%s\nGo steps:\n%s", strings.Join(got, ""), strings.Join(want, ""))
	}
	if _, err := AttrSteps(&specs.LinuxPersonality{Domain: "LINUX64"}, nil); err == nil || AttrRaw(&raw.Prog{}, &specs.LinuxPersonality{Domain: "LINUX64"}, nil) == nil {
		t.Error("a bad domain is accepted")
	}
}

// Errors of the raw ops read as the Go steps' errors.
func TestRawErrorsAsGoSteps(t *testing.T) {
	p := &raw.Prog{}
	reg, err := LookPathRaw(p, "nope", []string{"PATH=/a"})
	if err != nil || reg == 0 {
		t.Fatal(reg, err)
	}
	_, want := LookPath("nope", []string{"PATH=/nonexistent-ctr-lite"})
	if got := p.Error(len(p.Ops)-1, unix.ENOENT); got.Error() != "process: "+want.Error() {
		t.Errorf("not found: %v, want process: %v", got, want)
	}
	p = &raw.Prog{}
	LookPathRaw(p, "/x", nil)
	for _, tt := range []struct {
		op   int
		e    syscall.Errno
		want string
	}{
		{1, unix.EISDIR, `process: executable "/x": is a directory`},
		{2, unix.EACCES, `process: executable "/x": no execute permission: permission denied`},
		{2, unix.ENOENT, `process: executable "/x": stat /x: no such file or directory`},
		{0, unix.ELOOP, `process: executable "/x": stat /x: too many levels of symbolic links`},
	} {
		if got := p.Error(tt.op, tt.e); got.Error() != tt.want {
			t.Errorf("op %d %v: %v, want %s", tt.op, tt.e, got, tt.want)
		}
	}
	p = &raw.Prog{}
	c := &chdirState{path: "/w"}
	chdirRaw(p, c.first(), "/w", 0)
	if got := p.Error(0, unix.ENOENT).Error(); got != `chdir "/w": no such file or directory` {
		t.Errorf("chdir: %s", got)
	}
	if got := p.Error(2, unix.ENOENT).Error(); got != `chdir "/w": cwd "/w" is outside the root directory: no such file or directory` {
		t.Errorf("getcwd check: %s", got)
	}
	p = &raw.Prog{}
	rl := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: Infinity}}
	if err := rlimitRaw(p, rl); err != nil {
		t.Fatal(err)
	}
	var old unix.Rlimit
	unix.Prlimit(0, unix.RLIMIT_NOFILE, nil, &old)
	wantRl := (&step.Error{Step: rlimitSteps(rl)[0], Err: rlimitErr(old.Max, rl[0], unix.EPERM)}).Error()
	if got := p.Error(0, unix.EPERM).Error(); got != wantRl || (old.Max != Infinity && !strings.Contains(got, "CAP_SYS_RESOURCE")) {
		t.Errorf("prlimit: %s, want %s", got, wantRl)
	}
	p = &raw.Prog{}
	procWriteRaw(p, step.Step{Op: "write /proc/self/x", Args: "1"}, "/proc", "self/x", "1", procViaSelf, nil)
	for op, want := range map[int]string{
		0: "write /proc/self/x 1: open /proc: no such file or directory",
		2: "write /proc/self/x 1: /proc is not on a procfs (want PROC_SUPER_MAGIC 0x9fa0): refusing to write through it",
		3: "write /proc/self/x 1: open /proc/self/x: no such file or directory",
		6: "write /proc/self/x 1: /proc/self/x is not on a procfs (want PROC_SUPER_MAGIC 0x9fa0): refusing to write through it",
		7: "write /proc/self/x 1: no such file or directory",
	} {
		if got := p.Error(op, unix.ENOENT).Error(); got != want {
			t.Errorf("procfs op %d: %s, want %s", op, got, want)
		}
	}
}

// What RawSteps cannot do is a *raw.NeedsGo, so the runtime runs the Go
// init instead.
func TestRawStepsNeedsGo(t *testing.T) {
	cfg, r := rawTestConfig()
	cfg.SetgroupsDenied = true
	var ng *raw.NeedsGo
	if err := RawSteps(cfg, r, &raw.Prog{}); !errors.As(err, &ng) {
		t.Errorf("groups with setgroups denied: %v", err)
	}
	r.Groups = nil
	if err := RawSteps(cfg, r, &raw.Prog{}); err != nil {
		t.Errorf("no groups with setgroups denied: %v", err)
	}
	cfg.BeforeUser = []step.Step{{Op: "x"}}
	if err := RawSteps(cfg, r, &raw.Prog{}); err == nil || errors.As(err, &ng) {
		t.Errorf("Go hooks: %v", err)
	}
}
