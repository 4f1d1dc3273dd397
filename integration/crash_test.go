package integration

// A runtime killed half-way (an orchestrator's timeout, the OOM killer)
// must leave nothing `delete --force` cannot remove, and no half-made
// process that lives on: the init dies with its runtime until it is
// ready. These tests stop create, run and exec at real blocking points (a
// hook that waits on a FIFO, an init whose stderr pipe is full), SIGKILL
// them there, and check what is left.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// descendants lists pid's living descendants (from /proc/*/stat ppids).
func descendants(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	kids := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(data, ')')
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		kids[pp] = append(kids[pp], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, k := range kids[p] {
			out = append(out, k)
			queue = append(queue, k)
		}
	}
	return out
}

// cmdline is /proc/PID/cmdline with spaces for NULs.
func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(data), "\x00", " "))
}

// wantDead waits a little for each pid to die and reports those that do
// not: what a killed runtime left running.
func wantDead(t *testing.T, what string, pids []int) {
	t.Helper()
	for _, pid := range pids {
		for deadline := time.Now().Add(5 * time.Second); alive(pid) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("%s: process %d (%s) outlived its killed runtime", what, pid, cmdline(pid))
		}
	}
}

// startCtr starts ctr-lite args with stdout and stderr to files; the
// caller kills it.
func startCtr(t *testing.T, b *bundle, stderr *os.File, args ...string) *exec.Cmd {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if stderr == nil {
		stderr = out
	}
	cmd := exec.Command(binary, b.args(args...)...)
	cmd.Stdout, cmd.Stderr = out, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// blockingHook is a hook that writes its pid to dir/pids and then blocks
// opening dir/fifo, which no one ever writes.
func blockingHook(t *testing.T, dir string) specs.Hook {
	t.Helper()
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c",
		fmt.Sprintf("echo $$ >>%s/pids; exec cat %s/fifo", dir, dir)}}
}

// TestOrchestratorKillsRuntimeInHook: create and run SIGKILLed while a
// createRuntime hook (run by the runtime) or a createContainer hook (run
// by the init, in the container) blocks. The hook and the init die with
// the runtime; the state names the init, and delete --force removes the
// cgroup in every hierarchy and the state.
func TestOrchestratorKillsRuntimeInHook(t *testing.T) {
	for _, tc := range []struct{ cmd, hook string }{
		{"create", "createRuntime"}, {"create", "createContainer"},
		{"run", "createRuntime"}, {"run", "createContainer"},
	} {
		t.Run(tc.cmd+"-"+tc.hook, func(t *testing.T) {
			b := newBundle(t, "killhook-"+tc.cmd+"-"+tc.hook, "sleep", "1000")
			dir := t.TempDir()
			h := blockingHook(t, dir)
			if tc.hook == "createRuntime" {
				b.spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{h}}
			} else {
				b.spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{h}}
			}
			b.write()
			cmd := startCtr(t, b, nil, tc.cmd, "--bundle", b.dir, b.id)
			waitFile(t, filepath.Join(dir, "pids"))
			procs := descendants(cmd.Process.Pid)
			b.pids = append(b.pids, procs...)
			cmd.Process.Kill()
			cmd.Wait()
			wantDead(t, tc.cmd+" killed in a "+tc.hook+" hook", procs)
			// As runc's, whose state.json is written when create ends: the
			// killed create's container does not exist for state and list,
			// and delete --force removes what it left.
			b.fail([]string{"state", b.id}, "container does not exist")
			if r := b.must("list", "-q"); r.stdout != "" || r.stderr != "ctr-lite: warning: load container "+b.id+": container does not exist\n" {
				t.Errorf("list -q after the killed create: want nothing and runc's warning:\n%s", r)
			}
			b.must("delete", "--force", b.id)
			b.wantNothingLeft()
		})
	}
}

// stuckStderr is a pipe of one page for a command's stderr that the test
// reads until it sees a given line, then fills, so that the next write
// blocks: a log reader that stopped reading.
type stuckStderr struct {
	r, w *os.File
	br   *bufio.Reader
	seen []string
}

func newStuckStderr(t *testing.T) *stuckStderr {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatal(err)
	}
	s := &stuckStderr{r: r, w: w, br: bufio.NewReader(r)}
	t.Cleanup(s.close)
	return s
}

// started drops our write end: EOF once the command's processes end.
func (s *stuckStderr) started() { s.w.Close() }

// readUntil reads lines until the n-th one containing marker.
func (s *stuckStderr) readUntil(marker string, n int) bool {
	for k := 0; k < n; {
		line, err := s.br.ReadString('\n')
		if err != nil {
			return false
		}
		s.seen = append(s.seen, line)
		if strings.Contains(line, marker) {
			k++
		}
	}
	return true
}

// stop fills the pipe: the next write of the command blocks. The filler
// is a write end of our own, non-blocking (O_NONBLOCK is per open file:
// the command's end stays blocking), opened through the read end's
// /proc/self/fd link.
func (s *stuckStderr) stop() {
	fill, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", s.r.Fd()), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	defer unix.Close(fill)
	buf := bytes.Repeat([]byte{'#'}, 4096)
	for {
		if _, err := unix.Write(fill, buf); err != nil {
			return
		}
	}
}

// drain reads what is in the pipe without blocking.
func (s *stuckStderr) drain() string {
	fd := int(s.r.Fd()) // Fd makes the file blocking: call it once
	unix.SetNonblock(fd, true)
	var out strings.Builder
	for _, l := range s.seen {
		out.WriteString(l)
	}
	// What bufio read ahead, then what is left in the pipe.
	ahead, _ := s.br.Peek(s.br.Buffered())
	out.Write(ahead)
	buf := make([]byte, 65536)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			break
		}
		out.Write(buf[:n])
	}
	return out.String()
}

func (s *stuckStderr) close() {
	s.w.Close()
	s.r.Close()
}

const initLine = "explain[init]: "

// isReady: l explains the init's step after which the container may
// outlive the runtime: the Go init's "ready" message (its parent-death
// signal cleared in the same step), the raw init's clearing of the
// signal (then its Done, or for exec the program).
func isReady(l string) bool {
	return strings.Contains(l, initLine+"write(sync socket") || strings.Contains(l, initLine+"prctl(PR_SET_PDEATHSIG, 0)")
}

// initLines counts the init's explained steps of a command up to and
// including the one that tells the runtime it is ready.
func initLines(stderr string) int {
	n := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, initLine) && !strings.Contains(l, initLine+"    ->") {
			n++
			if isReady(l) {
				return n
			}
		}
	}
	return 0
}

// killAtInitLine runs ctr-lite --explain args with a stderr that stops
// taking writes after the n-th step the init explains, so the init
// blocks there (or close after), SIGKILLs ctr-lite, and checks that every
// process it started dies with it, unless the init had already told it it
// was ready (then the container legitimately lives on). It reports
// whether the init was caught before ready.
func killAtInitLine(t *testing.T, b *bundle, n int, args ...string) bool {
	t.Helper()
	s := newStuckStderr(t)
	defer s.close()
	cmd := startCtr(t, b, s.w, append([]string{"--explain"}, args...)...)
	s.started()
	// The deadline only avoids hanging.
	timer := time.AfterFunc(60*time.Second, func() {
		for _, p := range append(descendants(cmd.Process.Pid), cmd.Process.Pid) {
			unix.Kill(p, unix.SIGKILL)
		}
	})
	defer timer.Stop()
	if !s.readUntil(initLine, n) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("ctr-lite %v ended before its init explained %d steps:\n%s", args, n, s.drain())
	}
	s.stop()
	time.Sleep(50 * time.Millisecond)
	procs := descendants(cmd.Process.Pid)
	b.pids = append(b.pids, procs...)
	cmd.Process.Kill()
	cmd.Wait()
	// Wait for the deaths before reading the pipe: reading would let a
	// surviving init go on.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if len(livingOf(procs)) == 0 {
			break
		}
	}
	left := livingOf(procs)
	out := s.drain()
	if isReady(out) {
		// The init may have sent "ready": it may live on.
		return false
	}
	for _, pid := range left {
		t.Errorf("ctr-lite %v killed after %d init steps: process %d (%s) outlived it", args, n, pid, cmdline(pid))
	}
	return true
}

func livingOf(pids []int) []int {
	var out []int
	for _, p := range pids {
		if alive(p) {
			out = append(out, p)
		}
	}
	return out
}

// TestOrchestratorKillsRuntimeWhileInitWorks: create and exec SIGKILLed
// while their init sets up (blocked writing its stderr, as behind a log
// reader that stopped): at its first step, and half-way through
// create's (mounts). The init dies with the runtime; delete --force
// removes the rest; exec leaves the container as it was. (The pipe holds
// a page: an init with less than that left to explain is not caught.)
func TestOrchestratorKillsRuntimeWhileInitWorks(t *testing.T) {
	b := newBundle(t, "killinit", "sleep", "1000")
	// How many steps the init explains before ready, for create and exec.
	r := b.detached(nil, "--explain", "create", "--bundle", b.dir, b.id)
	createSteps := initLines(r.stderr)
	b.must("start", b.id)
	r = b.detached(nil, "--explain", "exec", b.id, "true")
	execSteps := initLines(r.stderr)
	if createSteps < 3 || execSteps < 3 {
		t.Fatalf("init explained %d steps for create, %d for exec, before ready", createSteps, execSteps)
	}
	init := b.state(b.id).Pid

	for _, tc := range []struct {
		name string
		n    int
	}{{"first", 1}} {
		t.Run("exec-"+tc.name, func(t *testing.T) {
			// The raw init's exec explains ~2.4 KB before it is ready:
			// where the runtime's own lines leave the pipe's page room
			// for all of it (pure cgroup v2: few cgroup lines), no stuck
			// stderr stops it. The Go init's explains enough. (The raw
			// child dies with the runtime by the same PR_SET_PDEATHSIG:
			// namespaces' TestStartParentDeathSignal.)
			t.Setenv("CTR_LITE_INIT", "go")
			caught := false
			for try := 0; try < 5 && !caught; try++ {
				caught = killAtInitLine(t, b, tc.n, "exec", b.id, "true")
			}
			if !caught {
				t.Fatalf("could not stop exec's init before ready in 5 tries")
			}
			if st := b.state(b.id); st.Status != "running" || st.Pid != init {
				t.Errorf("after a killed exec the container is %s with pid %d, want running %d", st.Status, st.Pid, init)
			}
		})
	}
	b.must("exec", b.id, "true")
	b.must("delete", "--force", b.id)

	for _, tc := range []struct {
		name string
		n    int
	}{{"first", 1}, {"half-way", createSteps / 2}} {
		t.Run("create-"+tc.name, func(t *testing.T) {
			caught := false
			for try := 0; try < 5 && !caught; try++ {
				caught = killAtInitLine(t, b, tc.n, "create", "--bundle", b.dir, b.id)
				// As runc's, a create killed before it ended left no
				// container state and list show.
				if r := b.ctr("state", b.id); caught && !strings.Contains(r.stderr, "container does not exist") {
					t.Errorf("killed create caught before ready: want state to say it does not exist:\n%s", r)
				}
				b.must("delete", "--force", b.id)
			}
			if !caught {
				t.Fatalf("could not stop create's init before ready in 5 tries")
			}
			b.wantNothingLeft()
		})
	}
}

// TestOrchestratorKillsForegroundRun: run SIGKILLed while its container
// runs leaves the container running, as runc does; delete --force then
// removes all of it.
func TestOrchestratorKillsForegroundRun(t *testing.T) {
	b := newBundle(t, "killrun", "sleep", "1000")
	cmd := startCtr(t, b, nil, "run", "--bundle", b.dir, b.id)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if r := b.ctr("state", b.id); r.code == 0 && strings.Contains(r.stdout, `"running"`) {
			break
		}
	}
	st := b.state(b.id)
	cmd.Process.Kill()
	cmd.Wait()
	time.Sleep(100 * time.Millisecond)
	if !alive(st.Pid) {
		t.Errorf("the container's init %d died with a killed foreground run", st.Pid)
	}
	b.must("delete", "--force", b.id)
	b.wantNothingLeft()
}

// pipeBlock finds how to make a command block at one of its writes
// (lines) lo..hi of stderr (0-based), given the writes a run of it made:
// a pipe of pages pages holding fill bytes first. Nothing reads the pipe:
// each write merges into the last page if it fits, else takes a free
// page, else blocks (pipe_write; a write under PIPE_BUF is never split).
// It asks that fill±slack blocks in lo..hi too, as pids and paths vary in
// length from run to run.
func pipeBlock(writes []int, lo, hi int) (pages, fill int, ok bool) {
	const page, slack = 4096, 24
	blocksAt := func(pages, fill int) int {
		// One write of fill bytes takes whole pages, the rest a last one.
		fill = max(fill, 0)
		var used []int
		for ; fill >= page; fill -= page {
			used = append(used, page)
		}
		if fill > 0 || len(used) == 0 {
			used = append(used, fill)
		}
		for i, m := range writes {
			switch {
			case used[len(used)-1]+m <= page:
				used[len(used)-1] += m
			case len(used) < pages:
				used = append(used, m)
			default:
				return i
			}
		}
		return -1
	}
	in := func(i int) bool { return i >= lo && i <= hi }
	for pages = 1; pages <= 16; pages *= 2 {
		for fill = 0; fill < pages*page-slack; fill += 8 {
			if in(blocksAt(pages, fill-slack)) && in(blocksAt(pages, fill)) && in(blocksAt(pages, fill+slack)) {
				return pages, fill, true
			}
		}
	}
	return 0, 0, false
}

// killAtReady runs ctr-lite --explain args with a stderr pipe nobody
// reads, sized so that the init blocks writing the explanation of its
// "ready" step (after the user change), SIGKILLs ctr-lite and checks that
// every process it started dies with it. calib is the stderr of a full
// run of the same command. It reports whether the init was caught there.
func killAtReady(t *testing.T, b *bundle, calib string, args ...string) bool {
	t.Helper()
	lines := strings.SplitAfter(calib, "\n")
	var writes []int
	// From the user change (it clears the signal) to ready.
	rearm, ready := -1, -1
	for i, l := range lines {
		writes = append(writes, len(l))
		if rearm < 0 && strings.Contains(l, initLine+"setresuid(") {
			rearm = i
		}
		if ready < 0 && isReady(l) {
			ready = i
		}
	}
	pages, fill, ok := pipeBlock(writes, rearm+1, ready)
	if rearm < 0 || ready < 0 || !ok {
		t.Fatalf("no pipe size blocks ctr-lite %v at its init's ready step (lines %d..%d of %d)", args, rearm+1, ready, len(writes))
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, pages*4096); err != nil || n != pages*4096 {
		t.Fatalf("F_SETPIPE_SZ %d: %d %v", pages*4096, n, err)
	}
	if _, err := w.Write(bytes.Repeat([]byte{'#'}, fill)); err != nil {
		t.Fatal(err)
	}
	cmd := startCtr(t, b, w, append([]string{"--explain"}, args...)...)
	w.Close()
	// Wait until the pipe stops filling: the writers block.
	rfd := int(r.Fd())
	last, still := -1, 0
	for deadline := time.Now().Add(20 * time.Second); still < 10 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n, _ := unix.IoctlGetInt(rfd, unix.TIOCINQ) // FIONREAD
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	procs := descendants(cmd.Process.Pid)
	b.pids = append(b.pids, procs...)
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); len(livingOf(procs)) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	left := livingOf(procs)
	unix.SetNonblock(rfd, true)
	var out strings.Builder
	buf := make([]byte, 65536)
	for {
		n, err := unix.Read(rfd, buf)
		if n <= 0 || err != nil {
			break
		}
		out.Write(buf[:n])
	}
	got := out.String()
	if isReady(got) || !strings.Contains(got, initLine+"setresuid(") {
		// Ready was sent, or the init blocked before its last steps.
		for _, p := range left {
			unix.Kill(p, unix.SIGKILL)
		}
		return false
	}
	for _, pid := range left {
		t.Errorf("ctr-lite %v killed while its init was about to be ready: process %d (%s) outlived it", args, pid, cmdline(pid))
	}
	return true
}

// TestOrchestratorKillsRuntimeJustBeforeReady: create and exec SIGKILLed
// while their init, past the change to a non-root user (which clears a
// parent-death signal), is about to say it is ready: the init still dies
// with them.
func TestOrchestratorKillsRuntimeJustBeforeReady(t *testing.T) {
	b := newBundle(t, "killready", "sleep", "1000")
	// A user change clears the signal (commit_creds): the init re-arms it.
	b.spec.Process.User = specs.User{UID: 1000, GID: 1000}
	b.write()
	createCalib := b.detached(nil, "--explain", "create", "--bundle", b.dir, b.id).stderr
	b.must("start", b.id)
	execCalib := b.detached(nil, "--explain", "exec", b.id, "true").stderr
	init := b.state(b.id).Pid

	caught := false
	for try := 0; try < 3 && !caught; try++ {
		caught = killAtReady(t, b, execCalib, "exec", b.id, "true")
	}
	if !caught {
		t.Errorf("could not stop exec's init just before ready in 3 tries")
	}
	if st := b.state(b.id); st.Status != "running" || st.Pid != init {
		t.Errorf("after a killed exec the container is %s with pid %d, want running %d", st.Status, st.Pid, init)
	}
	b.must("delete", "--force", b.id)

	caught = false
	for try := 0; try < 3 && !caught; try++ {
		caught = killAtReady(t, b, createCalib, "create", "--bundle", b.dir, b.id)
		b.must("delete", "--force", b.id)
	}
	if !caught {
		t.Errorf("could not stop create's init just before ready in 3 tries")
	}
	b.wantNothingLeft()
}

// TestOrchestratorDeletesHalfMadeCgroup: a create killed while it made
// the cgroup leaves it in some hierarchies only (v1 makes one directory
// per hierarchy; the devices one, where the processes are listed, last).
// delete removes what is there. On a cgroup v2 host the one directory is
// gone: delete has nothing to remove there and still succeeds.
func TestOrchestratorDeletesHalfMadeCgroup(t *testing.T) {
	b := newBundle(t, "halfcg", "sleep", "1000")
	b.mustDetached("create", "--bundle", b.dir, b.id)
	b.must("kill", b.id, "KILL")
	b.waitStatus(b.id, "stopped")
	dirs := cgDirs(b.spec.Linux.CgroupsPath)
	if len(dirs) == 0 {
		t.Fatal("the container has no cgroup directory")
	}
	gone := dirs[0]
	for _, d := range dirs {
		if strings.Contains(d, "/devices/") {
			gone = d
		}
	}
	// v1 refuses (EBUSY) for a moment after the last process left.
	err := unix.Rmdir(gone)
	for deadline := time.Now().Add(5 * time.Second); err == unix.EBUSY && time.Now().Before(deadline); err = unix.Rmdir(gone) {
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	b.must("delete", b.id)
	b.wantNothingLeft()
}
