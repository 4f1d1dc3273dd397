package process_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/caps"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/seccomp"
	"github.com/ctr-lite/ctr-lite/step"
)

// goInitEnv makes the test binary, re-executed, the Go init of a case:
// it runs process.Steps with the caps and seccomp steps and execs the
// program, as container.Init does.
const goInitEnv = "CTR_LITE_TEST_GO_INIT"

func TestMain(m *testing.M) {
	if c := os.Getenv(goInitEnv); c != "" {
		runtime.LockOSThread()
		err := goInit(c)
		fmt.Fprintln(os.Stderr, "go init:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// report is what the program shows of what it was given.
const report = `s=/proc/$$/status
grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters|SigBlk|SigIgn):' $s
grep -E '^Max (open files|core file size)' /proc/$$/limits
echo umask $(umask)
echo cwd $(readlink /proc/$$/cwd)
echo uts $(cat /proc/sys/kernel/hostname) $(cat /proc/sys/kernel/domainname)
echo oom $(cat /proc/$$/oom_score_adj)
echo fds; ls /proc/$$/fd; echo end of fds
echo stdout owner $(stat -L -c %u /proc/$$/fd/1)
mkdir /proc/$$/x 2>/dev/null; echo mkdir $?
echo arch $(uname -m)
ionice -p $$
grep " _ses.rawproc-$CASE:" /proc/keys | awk '{print "keyring", $4, $5, $6, $8, $9}'
`

// rawCase is one process config run both ways.
type rawCase struct {
	cfg  process.Config
	caps *caps.Set
	// prelude, run first: the sets root has when its chdir is refused.
	prelude *caps.Set
	filter  *seccomp.Filter
	pers    *specs.LinuxPersonality
	io      *specs.LinuxIOPriority
	keyring string
}

func rawCaseNamed(name, cwd string) (rawCase, error) {
	oom := 500
	umask := uint32(0o027)
	cfg := process.Config{
		Process: specs.Process{
			Args: []string{"busybox", "sh", "-c", report},
			Env:  []string{"PATH=/nonexistent:/usr/bin:/bin", "A=b"},
			Cwd:  cwd,
			User: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{20, 10}, Umask: &umask},
			Rlimits: []specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Soft: 1000, Hard: 2000},
				{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
			},
			OOMScoreAdj:     &oom,
			NoNewPrivileges: true,
		},
		Hostname:   "rawproc",
		Domainname: "example",
		Namespaces: []specs.LinuxNamespace{{Type: specs.UTSNamespace}}, // the host's /proc shows $$
		KeepFDs:    []int{3},
		ChownStdio: true,
	}
	docker := caps.DockerDefault()
	docker.Inheritable = []string{"CAP_NET_BIND_SERVICE"}
	docker.Ambient = []string{"CAP_NET_BIND_SERVICE"}
	set, err := caps.FromSpec(docker)
	if err != nil {
		return rawCase{}, err
	}
	native, err := seccomp.NativeArch()
	if err != nil {
		return rawCase{}, err
	}
	errno := uint(unix.EPERM)
	f, err := seccomp.Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &errno}},
	}, native)
	if err != nil {
		return rawCase{}, err
	}
	cfg.Process.Env = append(cfg.Process.Env, "CASE="+name) // its keyring, not another's left for the GC
	c := rawCase{cfg: cfg, caps: set, filter: f, keyring: "rawproc-" + name,
		pers: &specs.LinuxPersonality{Domain: specs.PerLinux32},
		io:   &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 3}}
	switch name {
	case "full":
	case "retry": // root may not search cwd, the user may: chdir again as the user
		st, err := caps.ReadStatus(0)
		if err != nil {
			return rawCase{}, err
		}
		dac := caps.MaskOf(capability.CAP_DAC_OVERRIDE, capability.CAP_DAC_READ_SEARCH)
		c.prelude = &caps.Set{Effective: st.Permitted &^ dac, Permitted: st.Permitted, Last: set.Last}
	case "plain": // no caps, no filter, no user, nothing kept
		c.caps, c.filter, c.pers, c.io, c.keyring = nil, nil, nil, nil, ""
		c.cfg.Process.User = specs.User{}
		c.cfg.Process.NoNewPrivileges = false
		c.cfg.Process.OOMScoreAdj = nil
		c.cfg.KeepFDs = nil
		c.cfg.Hostname, c.cfg.Domainname = "", ""
	case "missing":
		c.cfg.Process.Args = []string{"no-such-program-ctr-lite"}
	default:
		return rawCase{}, fmt.Errorf("no case %q", name)
	}
	return c, nil
}

// goInit runs case name as the Go init does (container.processSteps).
func goInit(name string) error {
	c, err := rawCaseNamed(name, os.Getenv(goInitEnv+"_CWD"))
	if err != nil {
		return err
	}
	cfg := c.cfg
	attrs, err := process.AttrSteps(c.pers, c.io)
	if err != nil {
		return err
	}
	cfg.BeforeUser = append(attrs, c.caps.BoundingSteps()...)
	cfg.AfterUser = c.caps.ApplySteps()
	if c.filter != nil {
		cfg.Last = append(cfg.Last, seccomp.LoadStep(c.filter, nil))
	}
	cfg.Last = append(cfg.Last, process.DefaultSignalsStep())
	steps, _, err := process.Steps(cfg)
	if err != nil {
		return err
	}
	if c.keyring != "" {
		steps = append([]step.Step{process.SessionKeyringStep(c.keyring)}, steps...)
	}
	steps = append(c.prelude.ApplySteps(), steps...)
	return (&step.Runner{}).Run(steps...)
}

// rawProg builds case c as a raw program, as the runtime would.
func rawProg(t *testing.T, c rawCase, stdio [3]*os.File) (*raw.Prog, error) {
	t.Helper()
	cfg := c.cfg
	var fds [3]int
	for i, f := range stdio {
		fds[i] = -1
		if f != nil {
			fds[i] = int(f.Fd())
		}
	}
	var err error
	if cfg.Stdio, err = process.StatStdio(fds); err != nil {
		t.Fatal(err)
	}
	cfg.Raw.BeforeUser = func(p *raw.Prog) error {
		if err := process.AttrRaw(p, c.pers, c.io); err != nil {
			return err
		}
		return c.caps.BoundingRaw(p)
	}
	cfg.Raw.AfterUser = c.caps.ApplyRaw
	if c.filter != nil {
		cfg.Raw.Last = func(p *raw.Prog) error { return seccomp.LoadRaw(p, c.filter) }
	}
	if err := process.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	r, err := process.ResolveForRaw(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &raw.Prog{}
	if err := c.prelude.ApplyRaw(p); err != nil {
		t.Fatal(err)
	}
	if c.keyring != "" {
		if err := process.SessionKeyringRaw(p, c.keyring); err != nil {
			t.Fatal(err)
		}
	}
	if err := process.RawSteps(cfg, r, p); err != nil {
		return nil, err
	}
	p.Done(step.Step{Op: "write", Args: "status pipe, done"})
	process.DefaultSignalsRaw(p)
	if err := process.ExecRaw(p, r.PathReg, r.Args, r.Env); err != nil {
		t.Fatal(err)
	}
	return p, nil
}

// runCase runs case name in a new UTS namespace, raw or
// through the Go init, and returns what the program reported.
func runCase(t *testing.T, name, cwd string, useRaw bool) (string, error) {
	t.Helper()
	c, err := rawCaseNamed(name, cwd)
	if err != nil {
		t.Fatal(err)
	}
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	kept, notKept, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	defer notKept.Close()
	nc := &namespaces.Config{
		Namespaces: c.cfg.Namespaces,
		Stdout:     w,
		Stderr:     w,
		ExtraFiles: []*os.File{kept, notKept},
	}
	if useRaw {
		if nc.Prog, err = rawProg(t, c, [3]*os.File{nil, w, w}); err != nil {
			w.Close()
			return "", err
		}
	} else {
		nc.Path = "/proc/self/exe"
		nc.Args = []string{"process.test"}
		nc.Env = []string{goInitEnv + "=" + name, goInitEnv + "_CWD=" + cwd}
	}
	p, err := namespaces.Start(nc, nil)
	w.Close()
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(out)
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Success() {
		return string(b), fmt.Errorf("exit %v", st)
	}
	return string(b), nil
}

// The raw program leaves the process as the Go steps leave it: ids and
// groups, the five capability sets, no_new_privs and the seccomp filter,
// limits, umask, cwd, hostname and domainname, oom_score_adj, the fds
// open after execve (0-2 and the kept 3, not 4), stdout given to the
// user, and no signal left ignored (SIGHUP is ignored here).
func TestRawStepsMatchGoSteps(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	cwd := t.TempDir()
	userOnly := t.TempDir() + "/user-only" // 0700, the user's
	if err := os.Mkdir(userOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(userOnly, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"full", "plain", "retry"} {
		t.Run(name, func(t *testing.T) {
			cwd := cwd
			if name == "retry" {
				cwd = userOnly
			}
			want, err := runCase(t, name, cwd, false)
			if err != nil {
				t.Fatalf("Go init: %v\n%s", err, want)
			}
			got, err := runCase(t, name, cwd, true)
			if err != nil {
				t.Fatalf("raw: %v\n%s", err, got)
			}
			if got != want {
				t.Errorf("raw program's process:\n%s\nGo init's:\n%s", got, want)
			}
			// SIGHUP (bit 0) was ignored here; sh ignores others itself.
			if i := strings.Index(got, "SigIgn:\t"); i < 0 || !strings.ContainsAny(got[i+23:i+24], "02468ace") {
				t.Errorf("SIGHUP still ignored:\n%s", got)
			}
			if name == "retry" && !strings.Contains(got, "cwd "+userOnly+"\n") {
				t.Errorf("not in %s:\n%s", userOnly, got)
			}
			if name != "full" {
				return
			}
			for _, line := range []string{
				"Uid:\t1000\t1000\t1000\t1000", "Groups:\t10 20 ", "NoNewPrivs:\t1", "Seccomp:\t2",
				"CapAmb:\t0000000000000400", "CapInh:\t0000000000000400", "CapBnd:\t00000000a80425fb",
				"umask 0027", "cwd " + cwd, "uts rawproc example", "oom 500", "fds\n0\n1\n2\n3\nend of fds",
				"stdout owner 1000", "mkdir 1", "arch " + linux32Machine(), "best-effort: prio 3",
				"keyring perm 3f1b0000 0 keyring _ses.rawproc-full:",
			} {
				if !strings.Contains(got, line) {
					t.Errorf("raw program's process lacks %q:\n%s", line, got)
				}
			}
		})
	}
}

// A program in no $PATH directory fails the raw child with the error
// Resolve gives.
func TestRawLookPathErrorIsResolves(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	c, err := rawCaseNamed("missing", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, want := process.Resolve(c.cfg)
	_, got := runCase(t, "missing", c.cfg.Process.Cwd, true)
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("raw child: %v\nResolve: %v", got, want)
	}
	if !errors.Is(got, os.ErrNotExist) && !strings.Contains(got.Error(), "executable file not found in $PATH") {
		t.Errorf("error %v", got)
	}
}

// The raw lookup picks what LookPath picks, skipping a directory and a
// file without an execute bit, and fails as LookPath fails for a path.
func TestRawLookPathAsLookPath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	for _, d := range []string{"a/prog", "b", "c"} {
		if err := os.MkdirAll(dir+"/"+d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dir+"/b/prog", []byte("#!/bin/busybox sh\necho b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/c/prog", []byte("#!/bin/busybox sh\necho found $0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + dir + "/a:" + dir + "/b:/nonexistent:" + dir + "/c"}
	run := func(name string) (string, error) {
		p := &raw.Prog{}
		reg, err := process.LookPathRaw(p, name, env)
		if err != nil {
			t.Fatal(err)
		}
		p.Done(step.Step{Op: "done"})
		if err := process.ExecRaw(p, reg, []string{name}, env); err != nil {
			t.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		proc, err := namespaces.Start(&namespaces.Config{Stdout: w, Prog: p}, nil)
		w.Close()
		if err != nil {
			return "", err
		}
		b, _ := io.ReadAll(r)
		proc.Wait()
		return strings.TrimSpace(string(b)), nil
	}
	want, err := process.LookPath("prog", env)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := run("prog"); err != nil || got != "found "+want {
		t.Errorf("raw lookup ran %q (%v), LookPath found %s", got, err, want)
	}
	for _, name := range []string{dir + "/a/prog", dir + "/b/prog", dir + "/nope", "nope"} {
		_, want := process.LookPath(name, env)
		_, got := run(name)
		if want == nil || got == nil || got.Error() != "process: "+want.Error() {
			t.Errorf("%s: raw lookup: %v\nLookPath: %v", name, got, want)
		}
	}
}

// linux32Machine is what uname -m says under PER_LINUX32 here.
func linux32Machine() string {
	if runtime.GOARCH == "arm64" {
		return "armv8l"
	}
	return "i686"
}
