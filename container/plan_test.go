package container

import (
	"encoding/json"
	"github.com/ctr-lite/ctr-lite/exeseal"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Pieces of the init's step list for DefaultSpec (`ctr-lite spec`), as
// "op|word word": the step's op, and words its arguments must contain
// ($B is the bundle). An entry starting with "*" matches one or more
// steps in a row: the cgroup file systems, mounted as the host has them
// (v1 hierarchies or cgroup2).
var (
	planPlaced = []string{`read|sync socket, "placed"`, "read|/proc/thread-self/mountinfo /proc/self/cgroup", "unshare|CLONE_NEWCGROUP", `keyctl|KEYCTL_JOIN_SESSION_KEYRING "_ses.c1"`}
	planRoot   = []string{"statfs|/proc/thread-self/fd", `open|"/dev/null" O_PATH`, `mount|"/" MS_REC|MS_SLAVE`,
		"mount|$B/rootfs MS_PRIVATE", `mount|"$B/rootfs", "$B/rootfs" MS_BIND|MS_REC`, `open|"$B/rootfs" O_PATH|O_DIRECTORY`}
	planMounts = []string{`mount|"proc", "$B/rootfs/proc"`, `mount|"tmpfs", "$B/rootfs/dev" MS_NOSUID|MS_STRICTATIME mode=755`,
		`mount|"devpts", "$B/rootfs/dev/pts" newinstance,ptmxmode=0666,mode=0620,gid=5`,
		`mount|"shm", "$B/rootfs/dev/shm" "tmpfs"`, `mount|"mqueue", "$B/rootfs/dev/mqueue"`,
		`mount|"sysfs", "$B/rootfs/sys" MS_NOSUID|MS_NODEV|MS_NOEXEC`, `open|"$B/rootfs/sys" O_PATH`,
		`*|$B/rootfs/sys/fs/cgroup`}
	planDev = []string{`mknod|$B/rootfs/dev/null 1:3`, `mknod|$B/rootfs/dev/zero 1:5`, `mknod|$B/rootfs/dev/full 1:7`,
		`mknod|$B/rootfs/dev/random 1:8`, `mknod|$B/rootfs/dev/urandom 1:9`, `mknod|$B/rootfs/dev/tty 5:0`,
		`symlink|"/proc/self/fd", "$B/rootfs/dev/fd"`, `symlink|$B/rootfs/dev/stdin`, `symlink|$B/rootfs/dev/stdout`,
		`symlink|$B/rootfs/dev/stderr`, `symlink|"pts/ptmx", "$B/rootfs/dev/ptmx"`, "mkdirat|$B/rootfs, 0755"}
	planMasks = []string{`mount|$B/rootfs/proc/acpi"`, `mount|$B/rootfs/proc/asound"`, `mount|$B/rootfs/proc/kcore"`,
		`mount|$B/rootfs/proc/keys"`, `mount|$B/rootfs/proc/latency_stats"`, `mount|$B/rootfs/proc/timer_list"`,
		`mount|$B/rootfs/proc/timer_stats"`, `mount|$B/rootfs/proc/sched_debug"`, `mount|$B/rootfs/sys/firmware"`,
		`mount|$B/rootfs/proc/scsi"`}
	planReadonly = []string{`mount|$B/rootfs/proc/bus MS_BIND|MS_REC`, `mount_setattr|"$B/rootfs/proc/bus" MOUNT_ATTR_RDONLY`,
		`mount|$B/rootfs/proc/fs MS_BIND|MS_REC`, `mount_setattr|"$B/rootfs/proc/fs" MOUNT_ATTR_RDONLY`,
		`mount|$B/rootfs/proc/irq MS_BIND|MS_REC`, `mount_setattr|"$B/rootfs/proc/irq" MOUNT_ATTR_RDONLY`,
		`mount|$B/rootfs/proc/sys" MS_BIND|MS_REC`, `mount_setattr|"$B/rootfs/proc/sys" MOUNT_ATTR_RDONLY`,
		`mount|$B/rootfs/proc/sysrq-trigger MS_BIND|MS_REC`, `mount_setattr|"$B/rootfs/proc/sysrq-trigger" MOUNT_ATTR_RDONLY`}
	planPivot = []string{`open|"/" O_DIRECTORY`, `fchdir|$B/rootfs`, `pivot_root|".", "."`, "fchdir|old root",
		`mount|"." MS_SLAVE|MS_REC`, `umount2|"." MNT_DETACH`, `chdir|"/"`}
	planChroot  = []string{`fchdir|$B/rootfs`, `mount|".", "/" MS_MOVE`, `chroot|"."`, `chdir|"/"`}
	planConsole = []string{"open|/dev/pts/ptmx TIOCGPTPEER", "mount|/dev/console", "dup3|<pty> 0 1 2", "setsid|", "ioctl|0, TIOCSCTTY"}
	planFinal   = []string{"mount_setattr|<pinned /sys> MOUNT_ATTR_RDONLY", "mount_setattr|<rootfs $B/rootfs> MOUNT_ATTR_RDONLY"}
	planProcess = []string{`sethostname|"ctr-lite"`, "prlimit|RLIMIT_NOFILE soft=1024 hard=1024",
		"close_range|CLOSE_RANGE_CLOEXEC", `chdir|"/"`,
		"prctl|PR_CAPBSET_DROP CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE", "fchown|0, 1, 2 uid 0",
		"prctl|PR_SET_KEEPCAPS, 1", "setgroups|[]", "setresgid|0", "setresuid|0", "prctl|PR_SET_KEEPCAPS, 0",
		"prctl|PR_SET_PDEATHSIG SIGKILL",
		"capset|effective=CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE permitted=CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE inheritable=none",
		"prctl|PR_CAP_AMBIENT_CLEAR_ALL", `chdir|"/"`, "umask|022", "prctl|PR_SET_NO_NEW_PRIVS, 1"}
	planStart = []string{`write|sync socket, "ready"`, "open|/proc/self/fd/4 O_WRONLY", "rt_sigaction, sigprocmask|SIG_DFL",
		`execve|"sh", ["sh"]`}

	// The runtime's fork (namespaces.Describe), its cgroup steps left
	// out: they are the host's (v1 or v2).
	planFork = []string{"mkfifo|/run/ctr-lite/c1/exec.fifo 0622", "clone|SIGCHLD", "close|", "dup3|0, 0", "dup3|1, 0", "dup3|2, 0",
		"dup3|3, 0", "dup3|4, 0"}
	planForkEnd = []string{`write|status pipe "ready"`, "read|go-ahead pipe", "clone|CLONE_PARENT|SIGCHLD",
		"prctl|PR_SET_PDEATHSIG, SIGKILL", "ppoll|go-ahead pipe", `execve|"/proc/self/exe" "ctr-lite" "init"`}
)

func cat(parts ...[]string) []string { return slices.Concat(parts...) }

// TestPlanSteps checks the whole ordered step list of a container, the
// runtime's and the init's, as create --dry-run prints it, for the
// default config and variants of it, without root and without running
// anything: what NewPlan compiled and the init turns into steps.
func TestPlanSteps(t *testing.T) {
	// The Go init's steps; TestPlanStepsRaw has the raw init's.
	t.Setenv(initEnvGo, "go")
	noTerm := func(s *specs.Spec, o *CreateOpts) { s.Process.Terminal, o.ConsoleSocket = false, "" }
	ns := `unshare|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET`
	rootSteps := cat(planRoot, planMounts, planDev, planMasks, planReadonly)
	for _, tc := range []struct {
		name          string
		mod           func(*specs.Spec, *CreateOpts)
		runtime, init []string
	}{
		{
			// `ctr-lite spec` as written: a terminal, so a console
			// socket; the pty is bound before the final read-only changes.
			name:    "default",
			mod:     func(*specs.Spec, *CreateOpts) {},
			runtime: cat(planFork, []string{"dup3|5, 0", ns}, planForkEnd),
			init:    cat(planPlaced, rootSteps, planPivot, planConsole, planFinal, planProcess, planStart),
		},
		{
			name:    "no terminal",
			mod:     noTerm,
			runtime: cat(planFork, []string{ns}, planForkEnd),
			init:    cat(planPlaced, rootSteps, planPivot, planFinal, planProcess, planStart),
		},
		{
			// The runtime writes the ID maps between the child's two
			// phases; the container's /sys is the host's, bound
			// (Rootless), so it is remounted read-only at once.
			name: "user namespace",
			mod: func(s *specs.Spec, o *CreateOpts) {
				noTerm(s, o)
				Rootless(s, 1000, 1000)
			},
			runtime: cat(planFork, []string{`unshare|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID`},
				planForkEnd[:2], []string{`write /proc/<child>/uid_map|"0 1000 1\n"`, `write /proc/<child>/gid_map|"0 1000 1\n"`,
					"setresgid|0, 0, 0", "setresuid|0, 0, 0"}, planForkEnd[2:]),
			init: cat(planPlaced, planRoot, planMounts[:2], []string{`mount|"devpts" newinstance,ptmxmode=0666,mode=0620"`},
				planMounts[3:5], []string{`mount|"/sys", "$B/rootfs/sys" MS_BIND|MS_REC`, `mount_setattr|"$B/rootfs/sys" MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC`},
				planMounts[7:], planDev, planMasks, planReadonly, planPivot, planFinal[1:], planProcess, planStart),
		},
		{
			name:    "no pivot",
			mod:     func(s *specs.Spec, o *CreateOpts) { noTerm(s, o); o.NoPivot = true },
			runtime: cat(planFork, []string{ns}, planForkEnd),
			init:    cat(planPlaced, rootSteps, planChroot, planFinal, planProcess, planStart),
		},
		{
			name:    "writable rootfs",
			mod:     func(s *specs.Spec, o *CreateOpts) { noTerm(s, o); s.Root.Readonly = false },
			runtime: cat(planFork, []string{ns}, planForkEnd),
			init:    cat(planPlaced, rootSteps, planPivot, planFinal[:1], planProcess, planStart),
		},
		{
			// Written through the container's /proc after the mounts,
			// sorted, before /proc/sys is made read-only.
			name: "sysctls",
			mod: func(s *specs.Spec, o *CreateOpts) {
				noTerm(s, o)
				s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "65536"}
			},
			runtime: cat(planFork, []string{ns}, planForkEnd),
			init: cat(planPlaced, planRoot, planMounts, planDev,
				[]string{`write $B/rootfs/proc/sys/kernel/shmmax|"65536"`, `write $B/rootfs/proc/sys/net/ipv4/ip_forward|"1"`},
				planMasks, planReadonly, planPivot, planFinal, planProcess, planStart),
		},
		{
			// With no_new_privs (the default) the filter is loaded last,
			// after no_new_privs, right before the container is ready.
			name: "seccomp",
			mod: func(s *specs.Spec, o *CreateOpts) {
				noTerm(s, o)
				s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
					Syscalls: []specs.LinuxSyscall{{Names: []string{"keyctl"}, Action: specs.ActErrno}}}
			},
			runtime: cat(planFork, []string{ns}, planForkEnd),
			init:    cat(planPlaced, rootSteps, planPivot, planFinal, planProcess, []string{"seccomp|SECCOMP_SET_MODE_FILTER"}, planStart),
		},
		{
			// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN:
			// it comes first, while the init is still root.
			name: "seccomp without no_new_privs",
			mod: func(s *specs.Spec, o *CreateOpts) {
				noTerm(s, o)
				s.Process.NoNewPrivileges = false
				s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
			},
			runtime: cat(planFork, []string{ns}, planForkEnd),
			init: cat(planPlaced, rootSteps, planPivot, planFinal, planProcess[:4], []string{"seccomp|SECCOMP_SET_MODE_FILTER"},
				planProcess[4:len(planProcess)-1], planStart),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := t.TempDir()
			if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
				t.Fatal(err)
			}
			s := DefaultSpec()
			o := CreateOpts{ID: "c1", Bundle: bundle, ConsoleSocket: "/run/console.sock"}
			tc.mod(s, &o)
			p, err := NewPlan(s, o)
			if err != nil {
				t.Fatal(err)
			}
			shown, err := Root{Dir: "/run/ctr-lite"}.planSteps(p)
			if err != nil {
				t.Fatal(err)
			}
			var rt, in []string
			cgroupSteps := 0
			for _, x := range shown {
				if x.note != "" {
					continue
				}
				line := strings.ReplaceAll(x.step.Op+"|"+x.step.Args, bundle, "$B")
				switch {
				case x.init:
					in = append(in, line)
				case strings.Contains(x.step.Args, "/sys/fs/cgroup/"):
					cgroupSteps++
				default:
					rt = append(rt, line)
				}
			}
			if cgroupSteps == 0 {
				t.Errorf("no cgroup step among the runtime's")
			}
			matchSteps(t, "runtime", rt, tc.runtime)
			matchSteps(t, "init", in, tc.init)
		})
	}
}

// matchSteps checks got ("op|args") against want (see planRoot).
func matchSteps(t *testing.T, side string, got, want []string) {
	t.Helper()
	match := func(g, w string) bool {
		gop, gargs, _ := strings.Cut(g, "|")
		wop, wargs, _ := strings.Cut(strings.TrimPrefix(w, "*"), "|")
		if wop != "" && gop != wop {
			return false
		}
		for _, word := range strings.Fields(wargs) {
			if !strings.Contains(gargs, word) {
				return false
			}
		}
		return true
	}
	i := 0
	for _, w := range want {
		if i >= len(got) || !match(got[i], w) {
			t.Errorf("%s step %d: got %q, want %q\nall steps:\n%s", side, i, at(got, i), w, strings.Join(got, "\n"))
			return
		}
		i++
		for strings.HasPrefix(w, "*") && i < len(got) && match(got[i], w) {
			i++
		}
	}
	if i != len(got) {
		t.Errorf("%s: %d steps more than wanted, from %q", side, len(got)-i, got[i])
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// TestPlanMessage checks what crosses to the init: the plan's init side
// only (no spec, no runtime parts), and small.
func TestPlanMessage(t *testing.T) {
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := DefaultSpec()
	s.Process.Terminal = false
	p, err := NewPlan(s, CreateOpts{ID: "c1", Bundle: bundle})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(&initConfig{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	// 1922 bytes with the whole spec; the plan of `ctr-lite spec` is ~1.7 KB.
	if len(data) > 1800 {
		t.Errorf("init message of %d bytes, want at most 1800: %s", len(data), data)
	}
	for _, no := range []string{`"ociVersion"`, `"capabilities"`, `"linux"`, `"cgroupsPath"`, `"annotations"`} {
		if strings.Contains(string(data), no) {
			t.Errorf("init message holds %s: %s", no, data)
		}
	}
	var back initConfig
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Plan.Caps == nil || back.Plan.Caps.Last != p.Caps.Last || back.Plan.Caps.Bounding != p.Caps.Bounding {
		t.Errorf("caps did not cross whole: %+v, sent %+v", back.Plan.Caps, p.Caps)
	}
	if back.Plan.Rootfs == nil || back.Plan.Rootfs.Rootfs != filepath.Join(bundle, "rootfs") || !back.Plan.Rootfs.Readonly {
		t.Errorf("rootfs did not cross whole: %+v", back.Plan.Rootfs)
	}
}

// The raw init's plan (create --dry-run without CTR_LITE_INIT): no init
// process; the child's own steps, in the kernel's order, from the
// non-dumpable fork to the sealed trampoline, each at most once where it
// must be.
func TestPlanStepsRaw(t *testing.T) {
	if !exeseal.HasTrampoline() {
		t.Skipf("no exec trampoline for %s: the Go init's plan (TestPlanSteps)", runtime.GOARCH)
	}
	t.Setenv(initEnvGo, "")
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := DefaultSpec()
	s.Process.Terminal = false
	s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool { return m.Type == "cgroup" })
	p, err := NewPlan(s, CreateOpts{ID: "c1", Bundle: bundle})
	if err != nil {
		t.Fatal(err)
	}
	shown, err := Root{Dir: "/run/ctr-lite"}.planSteps(p)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, x := range shown {
		if x.note == "" {
			all = append(all, x.step.Op+"|"+x.step.Args)
		} else if strings.Contains(x.note, "Go init") {
			t.Fatalf("the plan is the Go init's: %s", x.note)
		}
	}
	want := []string{"clone|", "prctl|PR_SET_DUMPABLE, 0", "unshare|CLONE_NEWNS", "keyctl|KEYCTL_JOIN_SESSION_KEYRING",
		"fsopen|\"proc\"", "pivot_root|", "prlimit|0, RLIMIT_NOFILE", "capset|", "prctl|PR_SET_NO_NEW_PRIVS",
		"prctl|PR_SET_PDEATHSIG, 0", "write|status pipe, \"done\"", "execveat|", "execve|"}
	i := 0
	for _, line := range all {
		if i < len(want) && strings.HasPrefix(line, want[i]) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("the raw plan lacks %q (or has it out of order):\n%s", want[i], strings.Join(all, "\n"))
	}
}
