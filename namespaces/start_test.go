package namespaces

import (
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctr-lite/ctr-lite/step"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The lifecycle re-executes ctr-lite (an open file) with its sync pipes as
// extra descriptors: that path is not reachable from the CLI.
func TestStartExecFileWithExtraFilesEnvAndDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	bin, err := os.Open("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := Start(&Config{
		Namespaces: []specs.LinuxNamespace{{Type: "uts"}, {Type: "pid"}},
		Hostname:   "box",
		ExecFile:   bin,
		Args:       []string{"sh", "-c", `echo "$$ $(hostname) $(pwd) $FOO" >&3`},
		Env:        []string{"FOO=bar"},
		Dir:        "/proc",
		ExtraFiles: []*os.File{w},
	}, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("wait: %v %v", st, err)
	}
	if got := strings.TrimSpace(string(out)); got != "1 box /proc bar" {
		t.Errorf("child wrote %q, want \"1 box /proc bar\"", got)
	}
}

// A child that fails after the fork is reported by step and reaped, the
// intermediate process of a PID namespace too.
func TestStartFailureLeavesNoChild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	_, err := Start(&Config{Namespaces: []specs.LinuxNamespace{{Type: "pid"}}, Path: "/nonexistent/prog"}, nil)
	if err == nil || !strings.Contains(err.Error(), `execve "/nonexistent/prog"`) || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("error = %v, want the execve step with ENOENT", err)
	}
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); err != unix.ECHILD {
		t.Errorf("wait4(-1) = %v, want ECHILD: a child was left", err)
	}
}

// The child forks once more exactly when the final process must be born
// in a namespace the caller cannot enter itself: a new or joined PID
// namespace, or a new time namespace (unshare(CLONE_NEWTIME) does not move
// the caller at execve on kernels such as 6.1). Joining a time namespace
// moves the caller at once: no fork.
func TestForkWhy(t *testing.T) {
	for _, tc := range []struct {
		ns   []specs.LinuxNamespace
		want string // "" = no fork; else a substring of the reason
	}{
		{nil, ""},
		{[]specs.LinuxNamespace{{Type: "user"}, {Type: "uts"}, {Type: "net"}}, ""},
		{[]specs.LinuxNamespace{{Type: "time", Path: "/proc/1/ns/time"}}, ""},
		{[]specs.LinuxNamespace{{Type: "pid"}}, "is PID 1 of the new PID namespace"},
		{[]specs.LinuxNamespace{{Type: "pid", Path: "/proc/1/ns/pid"}}, "is in the joined PID namespace"},
		{[]specs.LinuxNamespace{{Type: "time"}}, "is in the new time namespace"},
		{[]specs.LinuxNamespace{{Type: "user"}, {Type: "time"}}, "is in the new time namespace"},
		{[]specs.LinuxNamespace{{Type: "pid"}, {Type: "time"}}, "is PID 1 of the new PID namespace and is in the new time namespace"},
	} {
		c := &Config{Namespaces: tc.ns, Path: "/bin/true"}
		if c.Namespaces != nil && c.Namespaces[0].Type == "user" {
			root := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
			c.UIDMappings, c.GIDMappings = root, root
		}
		pl, err := c.validate()
		if err != nil {
			t.Fatalf("%v: %v", tc.ns, err)
		}
		got := forkWhy(pl)
		if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
			t.Errorf("forkWhy(%v) = %q, want %q", tc.ns, got, tc.want)
		}
	}
}

// A new time namespace holds the process Start returns (the grandchild),
// on every kernel, and the explanation shows the extra clone.
func TestStartInNewTimeNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var explain strings.Builder
	p, err := Start(&Config{
		Namespaces: []specs.LinuxNamespace{{Type: "time"}},
		Path:       "/bin/busybox",
		Args:       []string{"readlink", "/proc/self/ns/time"},
		Stdout:     w,
	}, &step.Runner{Explain: &explain})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("wait: %v %v", st, err)
	}
	ours, err := os.Readlink("/proc/self/ns/time")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "time:[") || got == ours {
		t.Errorf("child's time namespace = %q, ours = %q: want a new one", got, ours)
	}
	if !strings.Contains(explain.String(), "CLONE_PARENT") {
		t.Errorf("explanation has no CLONE_PARENT clone:\n%s", explain.String())
	}
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); err != unix.ECHILD {
		t.Errorf("wait4(-1) = %v, want ECHILD: the intermediate child was left", err)
	}
}

// ParentDeathSignal: the process dies when the thread that started it
// exits (a goroutine that ends locked to its thread takes the thread
// with it), in a new PID namespace too, and not before.
func TestStartParentDeathSignal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tc := range []struct {
		name string
		ns   []specs.LinuxNamespace
	}{{"no namespace", nil}, {"new pid namespace", []specs.LinuxNamespace{{Type: "pid"}}}} {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan *Process)
			release := make(chan struct{})
			var work func()
			work = func() {
				runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
				if unix.Gettid() == os.Getpid() {
					// The main thread never exits: hold it and
					// start from another.
					done := make(chan struct{})
					go func() { work(); close(done) }()
					<-done
					runtime.UnlockOSThread()
					return
				}
				p, err := Start(&Config{Namespaces: tc.ns, Path: "/bin/sleep", Args: []string{"sleep", "100"},
					ParentDeathSignal: unix.SIGKILL}, nil)
				if err != nil {
					t.Error(err)
				}
				started <- p
				<-release
			}
			go work()
			p := <-started
			if p == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
			if err := p.Signal(unix.Signal(0)); err != nil {
				t.Fatalf("the process died while its parent thread lives: %v", err)
			}
			close(release)
			done := make(chan *os.ProcessState, 1)
			go func() { st, _ := p.Wait(); done <- st }()
			select {
			case st := <-done:
				if ws := st.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != unix.SIGKILL {
					t.Errorf("process ended with %v, want killed by SIGKILL", st)
				}
			case <-time.After(10 * time.Second):
				p.Signal(unix.SIGKILL)
				t.Fatal("the process outlived the thread that started it")
			}
		})
	}
}

// The cgroup join files get "0" (the writer itself) from the child before
// any other op: the tasks files always, cgroup.procs unless the child was
// born in CgroupFD's group. Plain files stand in for the cgroup files. A
// failed join names the file and nothing runs.
func TestStartJoinsCgroupFilesFirst(t *testing.T) {
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.OpenFile(dir+"/"+name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	tasks := []*os.File{open("memory-tasks"), open("pids-tasks")}
	procs := open("cgroup.procs")
	s := &starter{c: &Config{Path: "/bin/true", CgroupTasks: tasks, CgroupProcs: procs}, pl: &plan{}}
	if err := s.prepare(); err != nil {
		t.Fatal(err)
	}
	defer s.closeAll()
	if len(s.phase1) < 3 {
		t.Fatalf("phase 1 has %d ops", len(s.phase1))
	}
	for i, f := range []*os.File{tasks[0], tasks[1], procs} {
		o := s.phase1[i].op
		if o.Trap != unix.SYS_WRITE || o.Args[0] != f.Fd() || o.Args[2] != 1 || o.UnlessBorn != (f == procs) {
			t.Errorf("op %d = %+v, want write(%d (%s), \"0\", 1), unlessBorn %v", i, o, f.Fd(), f.Name(), f == procs)
		}
		if !strings.Contains(s.phase1[i].step.Args, f.Name()) {
			t.Errorf("step %d = %s, want it to name %s", i, s.phase1[i].step, f.Name())
		}
	}
	if os.Geteuid() != 0 {
		return // the rest forks
	}
	p, err := Start(&Config{Path: "/bin/true", CgroupTasks: tasks, CgroupProcs: procs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("wait: %v %v", st, err)
	}
	for _, f := range append(tasks, procs) {
		if b, err := os.ReadFile(f.Name()); err != nil || string(b) != "0" {
			t.Errorf("%s = %q, %v; want \"0\"", f.Name(), b, err)
		}
	}
	ro, err := os.Open(tasks[0].Name())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = Start(&Config{Path: "/nonexistent", CgroupTasks: []*os.File{ro}}, nil)
	if err == nil || !strings.Contains(err.Error(), "write "+ro.Name()) || !errors.Is(err, unix.EBADF) {
		t.Errorf("join through a read-only file: %v, want the write step to fail with EBADF", err)
	}
}
