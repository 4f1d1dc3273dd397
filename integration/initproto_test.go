package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUserRunsContainerWithHugeConfig: a 10 MiB config.json with 10,000
// mounts and a 1 MiB environment runs (runc runs a 40 MiB one). The
// config reached the init as one SOCK_SEQPACKET message, which failed
// above ~208 KiB with "message too long".
func TestUserRunsContainerWithHugeConfig(t *testing.T) {
	b := newBundle(t, "hugecfg", "sh", "-c", `n=0; for d in /m/*; do [ -f $d/marker ] && n=$((n+1)); done; echo "mounts=$n env=$(env | grep ^BIG | wc -c)"`)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "marker"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	const mounts = 10000
	for i := 0; i < mounts; i++ {
		b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: fmt.Sprintf("/m/%05d", i),
			Type: "bind", Source: src, Options: []string{"bind", "ro"}})
	}
	// execve(2) takes at most 128 KiB per string (MAX_ARG_STRLEN): 16
	// variables of 64 KiB make the 1 MiB.
	envBytes := 0
	for i := 0; i < 16; i++ {
		kv := fmt.Sprintf("BIG%02d=%s", i, strings.Repeat("v", 64<<10))
		b.spec.Process.Env = append(b.spec.Process.Env, kv)
		envBytes += len(kv) + 1
	}
	// Annotations fill the rest up to 10 MiB.
	b.spec.Annotations = map[string]string{}
	for i := 0; i < 128; i++ {
		b.spec.Annotations[fmt.Sprintf("org.example.pad%03d", i)] = strings.Repeat("a", 64<<10)
	}
	b.write()
	fi, err := os.Stat(filepath.Join(b.dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 10<<20 {
		t.Fatalf("config.json is %d bytes, want 10 MiB", fi.Size())
	}
	// Under 4096 open files (the kernel's default hard limit, as in the
	// VM): the init must not hold a descriptor per mount.
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := runCmd(t, exec.Command(bb, append([]string{"sh", "-c", `ulimit -n 4096 && exec "$@"`, "sh", binary},
		b.args("run", "-b", b.dir, b.id)...)...))
	took := time.Since(start)
	t.Logf("run of a %d-byte config with %d mounts: %v", fi.Size(), mounts, took)
	if r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	want := fmt.Sprintf("mounts=%d env=%d", mounts, envBytes)
	if got := strings.TrimSpace(r.stdout); got != want {
		t.Errorf("the program saw %q, want %q", got, want)
	}
}

// TestUserSignalsContainerRightAfterStart: once `start` returns, the
// container's process is the program (execve is past its point of no
// return), so a signal sent right then reaches the program, every time.
// start used to return before execve, and the signal could reach
// ctr-lite's Go init, whose runtime drops SIGUSR2: lost.
func TestUserSignalsContainerRightAfterStart(t *testing.T) {
	// The loop runs the trap within 20 ms (busybox's `wait` can miss a
	// signal that comes before it blocks: a race of its own).
	b := newBundle(t, "sigstart", "sh", "-c", "trap 'echo got >/mnt/x; exit 0' USR2; while :; do sleep 0.02; done")
	// No PID namespace: the kernel drops a signal to a namespace's init
	// that has no handler for it yet (pid_namespaces(7)), so with one, a
	// signal that beats sh's trap would be lost whatever the runtime
	// does. Without, it kills sh: either way it reached the program.
	var nss []specs.LinuxNamespace
	for _, ns := range b.spec.Linux.Namespaces {
		if ns.Type != specs.PIDNamespace {
			nss = append(nss, ns)
		}
	}
	b.spec.Linux.Namespaces = nss
	out := b.hostDir("/mnt")
	for i := 0; i < 20; i++ {
		os.Remove(filepath.Join(out, "x"))
		b.mustDetached("create", "-b", b.dir, b.id)
		pid := b.state(b.id).Pid
		initExe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			t.Fatal(err)
		}
		b.must("start", b.id)
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || exe == initExe {
			t.Fatalf("round %d: after start the container's process is still %q (%v): start returned before execve", i, exe, err)
		}
		b.must("kill", b.id, "USR2")
		// Reached the program: the trap writes the file, or (sent before
		// sh set its trap) SIGUSR2's default action ends it. Lost: it
		// runs on without the file.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(out, "x")); err == nil || b.state(b.id).Status == "stopped" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: SIGUSR2 sent right after start was lost", i)
			}
		}
		b.waitStatus(b.id, "stopped")
		b.must("delete", b.id)
	}
}

// TestUserGetsErrorForProgramThatCannotRun: a program that cannot be
// executed makes run, create or start fail with the reason (as runc:
// exit 1; a missing or non-executable file is found at create, a bad
// interpreter by execve itself at start) and never leaves a "running"
// container that then dies; exec fails the same way.
func TestUserGetsErrorForProgramThatCannotRun(t *testing.T) {
	b := newBundle(t, "noexec", "true")
	rootfs := filepath.Join(b.dir, "rootfs")
	if err := os.WriteFile(filepath.Join(rootfs, "noexec"), []byte("#!/bin/sh\necho ran\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "badinterp"), []byte("#!/no/such/interpreter\necho ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
		// atStart: only execve finds it out, so create succeeds.
		atStart bool
	}{
		{[]string{"/no/such/program"}, "no such file or directory", false},
		{[]string{"no-such-program"}, "not found in $PATH", false},
		{[]string{"/noexec"}, "no execute permission", false},
		{[]string{"/badinterp"}, "no such file or directory", true},
		{[]string{"/"}, "is a directory", false},
	}
	for _, c := range cases {
		b.spec.Process.Args = c.args
		b.write()
		b.fail([]string{"run", "-b", b.dir, b.id}, c.want)
		b.fail([]string{"state", b.id}, "does not exist")

		r := b.detached(nil, "create", "-b", b.dir, b.id)
		if !c.atStart {
			if r.code != 1 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("create of %q: want exit 1 with %q:\n%s", c.args, c.want, r)
			}
			b.fail([]string{"state", b.id}, "does not exist")
			continue
		}
		if r.code != 0 {
			t.Fatalf("create of %q: %s", c.args, r)
		}
		b.state(b.id)
		if r := b.ctr("start", b.id); r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("start of %q: want exit 1 with %q:\n%s", c.args, c.want, r)
		}
		if st := b.waitStatus(b.id, "stopped"); st.Pid != 0 {
			t.Errorf("after a failed start: %+v", st)
		}
		b.must("delete", b.id)
	}

	// exec: the container runs; the exec fails and leaves no process.
	b.spec.Process.Args = []string{"sleep", "1000"}
	b.write()
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	init := b.state(b.id).Pid
	for _, c := range cases {
		for _, detach := range [][]string{nil, {"-d"}} {
			args := append(append([]string{"exec"}, detach...), b.id)
			r := b.detached(nil, append(args, c.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exec %v %q: want a failure with %q:\n%s", detach, c.args, c.want, r)
			}
		}
	}
	if got := b.must("exec", b.id, "sh", "-c", "set -- /proc/[0-9]*; echo $#").stdout; strings.TrimSpace(got) != "2" {
		t.Errorf("processes in the container after the failed execs (sh and sleep expected): %s", got)
	}
	if b.state(b.id).Pid != init {
		t.Errorf("the container's init changed")
	}
	b.must("delete", "--force", b.id)
}

// TestUserRunsInCwdMissingFromRootfs: a process.cwd the rootfs lacks is
// created (runc does mkdir -p in the new root), also under a read-only
// root; symlinks are followed inside the rootfs, so one pointing at a
// host directory cannot make it land on the host.
func TestUserRunsInCwdMissingFromRootfs(t *testing.T) {
	b := newBundle(t, "mkcwd", "sh", "-c", "pwd; stat -c %a .")
	rootfs := filepath.Join(b.dir, "rootfs")
	hostDir := t.TempDir()
	if err := os.Symlink(hostDir, filepath.Join(rootfs, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/work", filepath.Join(rootfs, "lnk")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cwd      string
		readonly bool
		inRootfs string // where it must appear in the rootfs
	}{
		{"/work/a/b", false, "work/a/b"},
		{"/ro/c", true, "ro/c"},
		{"/lnk/e", false, "work/e"},
	} {
		b.spec.Process.Cwd = c.cwd
		b.spec.Root.Readonly = c.readonly
		b.write()
		r := b.must("run", "-b", b.dir, b.id)
		if got := r.stdout; got != c.cwd+"\n755\n" && !(c.cwd == "/lnk/e" && got == "/work/e\n755\n") {
			t.Errorf("cwd %s (readonly root %v): program printed %q", c.cwd, c.readonly, got)
		}
		if fi, err := os.Stat(filepath.Join(rootfs, c.inRootfs)); err != nil || !fi.IsDir() {
			t.Errorf("cwd %s: not created in the rootfs at %s: %v", c.cwd, c.inRootfs, err)
		}
	}
	// /escape leads to hostDir's path inside the rootfs, which does not
	// exist there: refused, and nothing is made on the host.
	b.spec.Process.Cwd = "/escape/d"
	b.spec.Root.Readonly = false
	b.write()
	b.fail([]string{"run", "-b", b.dir, b.id}, "mkdir")
	if _, err := os.Lstat(filepath.Join(hostDir, "d")); err == nil {
		t.Errorf("a symlink in the rootfs made the runtime create %s/d on the host", hostDir)
	}
}

// probeScript prints, from inside the container, what a program gets
// from its runtime: signal mask and ignored signals (of a child: sh
// itself ignores SIGQUIT), RLIMIT_NOFILE, umask, open fds, cwd and the
// environment's names. $0 names the output file in /mnt.
const probeScript = `o=/mnt/$0
{ grep -E '^Sig(Blk|Ign)' /proc/self/status
echo "nofile $(ulimit -n) $(ulimit -Hn)"
echo "umask $(umask)"
echo "fds $(ls /proc/self/fd | tr '\n' ' ')"
echo "cwd $(pwd)"
echo "env $(env | cut -d= -f1 | sort | tr '\n' ' ')"
} >$o.tmp && mv $o.tmp $o`

// TestUserGetsNothingOfTheRuntimeInProgram: the program of run,
// create+start and exec gets what the config says and, where it says
// nothing, what the caller had, never what ctr-lite's Go runtime did to
// itself: the caller's RLIMIT_NOFILE soft limit (the Go runtime raises
// its own to hard-1), no signal ignored or blocked (the caller ignores
// SIGINT, SIGHUP and real-time signals here, as under nohup, a shell's & or make), runc's umask
// 0022 for the container's process, only fds 0-2, the config's cwd, and
// no variable of the runtime's (GODEBUG, _CTR_LITE_INIT).
func TestUserGetsNothingOfTheRuntimeInProgram(t *testing.T) {
	b := newBundle(t, "noruntime", "sh", "-c", probeScript+"; exec sleep 1000", "run")
	out := b.hostDir("/mnt")
	b.spec.Process.Cwd = "/tmp"
	b.spec.Process.Rlimits = nil
	b.write()
	var hard syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &hard); err != nil {
		t.Fatal(err)
	}
	if hard.Max <= 1024 {
		t.Fatalf("hard RLIMIT_NOFILE is %d: the test lowers the soft one to 1024", hard.Max)
	}
	// caller runs ctr-lite as a caller with its own limits, mask and
	// signals would: through sh, which then execs it.
	caller := func(args ...string) {
		t.Helper()
		dir := t.TempDir()
		stdout, _ := os.Create(filepath.Join(dir, "out"))
		defer stdout.Close()
		cmd := exec.Command("sh", append([]string{"-c", `ulimit -S -n 1024 && umask 077 && trap '' INT HUP 32 33 34 64 && exec "$0" "$@"`, binary}, b.args(args...)...)...)
		cmd.Stdout, cmd.Stderr = stdout, stdout
		if err := cmd.Run(); err != nil {
			e, _ := os.ReadFile(stdout.Name())
			t.Fatalf("ctr-lite %v: %v\n%s", args, err, e)
		}
	}
	want := func(name, umask string) {
		t.Helper()
		got := waitFile(t, filepath.Join(out, name))
		envNames := map[string]bool{"HOME": true, "PWD": true, "SHLVL": true} // HOME: runc adds it; the others: sh
		for _, kv := range b.spec.Process.Env {
			k, _, _ := strings.Cut(kv, "=")
			envNames[k] = true
		}
		for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
			k, v, _ := strings.Cut(line, " ")
			if strings.HasPrefix(line, "Sig") {
				k, v, _ = strings.Cut(line, ":\t")
			}
			var wantV string
			switch k {
			case "SigBlk", "SigIgn":
				wantV = "0000000000000000"
			case "nofile":
				wantV = fmt.Sprintf("1024 %d", hard.Max)
			case "umask":
				wantV = umask
			case "fds":
				wantV = "0 1 2 3 " // 3: ls's own directory
			case "cwd":
				wantV = "/tmp"
			case "env":
				for _, n := range strings.Fields(v) {
					if !envNames[n] {
						t.Errorf("%s: the program's environment has %s, which the config does not give", name, n)
					}
				}
				continue
			default:
				t.Fatalf("%s: unexpected line %q", name, line)
			}
			if v != wantV {
				t.Errorf("%s: %s is %q, want %q", name, k, v, wantV)
			}
		}
	}

	caller("run", "-d", "-b", b.dir, b.id)
	want("run", "0022")
	// exec: runc 1.1 leaves exec's umask to the caller when the config
	// has none.
	caller("exec", "-d", b.id, "sh", "-c", probeScript, "exec")
	want("exec", "0077")
	caller("exec", b.id, "sh", "-c", probeScript, "exec-fg")
	want("exec-fg", "0077")
	b.must("delete", "--force", b.id)

	b.spec.Process.Args[len(b.spec.Process.Args)-1] = "create"
	b.write()
	caller("create", "-b", b.dir, b.id)
	b.state(b.id)
	caller("start", b.id)
	want("create", "0022")
	b.must("delete", "--force", b.id)
}

// TestUserPassesLargeStateToSeccompAgent: the container process state
// sent to a seccomp agent (config-linux.md listenerPath) carries the
// annotations, however large: one sendmsg sent only what fit in the
// socket's buffer and the rest was refused as a short write.
func TestUserPassesLargeStateToSeccompAgent(t *testing.T) {
	agent := startSeccompAgent(t)
	b := newBundle(t, "bigstate", "sh", "-c", notifyScript)
	data := b.hostDir("/data")
	b.spec.Annotations = map[string]string{"org.example.big": strings.Repeat("a", 4<<20)}
	b.spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: agent.path,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat", "chmod", "fchmod", "fchmodat", "fchmodat2"}, Action: specs.ActNotify}}}
	b.write()
	if r := b.ctr("run", "-b", b.dir, b.id); r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	checkNotifyOutput(t, "run", data)
	if got := agent.state(0).State.Annotations["org.example.big"]; len(got) != 4<<20 {
		t.Errorf("the agent got an annotation of %d bytes, want %d", len(got), 4<<20)
	}
}

// TestUserGetsTooLongEnvRefusedAtCreate: one environment string longer
// than execve(2) takes (MAX_ARG_STRLEN, 32 pages) fails create with the
// reason, not start with E2BIG; nothing is left.
func TestUserGetsTooLongEnvRefusedAtCreate(t *testing.T) {
	b := newBundle(t, "e2big", "true")
	b.spec.Process.Env = append(b.spec.Process.Env, "HUGE="+strings.Repeat("x", 32*os.Getpagesize()))
	b.write()
	r := b.detached(nil, "create", "-b", b.dir, b.id)
	if r.code != 1 || !strings.Contains(r.stderr, "env HUGE is") || !strings.Contains(r.stderr, "MAX_ARG_STRLEN") {
		t.Errorf("create: want exit 1 naming HUGE and MAX_ARG_STRLEN:\n%s", r)
	}
	b.fail([]string{"state", b.id}, "does not exist")
}

// runCmd runs cmd with its output captured, as ctrLite does.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return r
}
