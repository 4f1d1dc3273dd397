package namespaces

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// progFor builds a raw program that exercises every rule of the child's
// interpreter, then execs busybox sh with script, or fails with failAt
// (before or after Done).
func progFor(t *testing.T, script string, failBeforeDone bool) *raw.Prog {
	t.Helper()
	p := &raw.Prog{}
	must := func(v uintptr, err error) uintptr {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	fd, flag := p.Reg(), p.Reg()
	// A missing path takes the Else branch past the Fail.
	miss := p.Sys(step.Step{Op: "openat", Args: "/nonexistent"}, unix.SYS_OPENAT,
		uintptrNeg(unix.AT_FDCWD), must(p.Str("/nonexistent")), unix.O_PATH|unix.O_CLOEXEC)
	p.Ops[miss].Else = [2]syscall.Errno{unix.ENOENT}
	p.Sys(step.Step{Op: "fail"}, raw.Fail, uintptr(unix.EIO))
	p.JumpHere(miss)
	// An fd opened into a register, passed on to fstatfs.
	i := p.Sys(step.Step{Op: "openat", Args: "/proc"}, unix.SYS_OPENAT,
		uintptrNeg(unix.AT_FDCWD), must(p.Str("/proc")), unix.O_PATH|unix.O_CLOEXEC)
	p.Ops[i].Out = fd
	var st unix.Statfs_t
	p.Keep(&st)
	i = p.Sys(step.Step{Op: "fstatfs"}, unix.SYS_FSTATFS, 0, uintptr(unsafe.Pointer(&st)))
	p.Ops[i].In[0] = fd
	p.Add(raw.Op{Trap: raw.Eq, Ptr: unsafe.Pointer(&st.Type), Args: [6]uintptr{0: 0, 1: unix.PROC_SUPER_MAGIC, 2: uintptr(unix.EXDEV), 3: unsafe.Sizeof(st.Type)}}, step.Step{Op: "check procfs"})
	// If: skipped while flag is 0, run once it is set.
	i = p.Sys(step.Step{Op: "fail", Args: "flag unset"}, raw.Fail, uintptr(unix.EIO))
	p.Ops[i].If = flag
	p.Add(raw.Op{Trap: raw.Set, Out: flag, Args: [6]uintptr{1}}, step.Step{Op: "set"})
	skip := p.Add(raw.Op{Trap: raw.Goto}, step.Step{Op: "goto"})
	p.Sys(step.Step{Op: "fail", Args: "jumped over"}, raw.Fail, uintptr(unix.EIO))
	p.JumpHere(skip)
	if failBeforeDone {
		p.Sys(step.Step{Op: "mkdirat", Args: `"/proc/x"`}, unix.SYS_MKDIRAT,
			uintptrNeg(unix.AT_FDCWD), must(p.Str("/proc/no/such/dir")), 0o755)
	}
	p.Done(step.Step{Op: "write", Args: "status pipe, done"})
	sh := must(p.Str("/bin/busybox"))
	argv := must(p.Strs([]string{"sh", "-c", script}))
	envp := must(p.Strs([]string{"A=b"}))
	p.Sys(step.Step{Op: "execve", Args: `"/bin/busybox"`}, unix.SYS_EXECVE, sh, argv, envp)
	return p
}

func uintptrNeg(v int) uintptr { return uintptr(v) }

// Start runs a raw program in the final child: registers, errno
// branches, If, Goto, Eq and Done, then its execve.
func TestStartRunsProg(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := Start(&Config{
		Namespaces: []specs.LinuxNamespace{{Type: "pid"}, {Type: "mount"}},
		Stdout:     w,
		Prog:       progFor(t, `echo "$$ $A"`, false),
	}, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("wait: %v %v", st, err)
	}
	if got := strings.TrimSpace(string(out)); got != "1 b" {
		t.Errorf("child wrote %q, want \"1 b\"", got)
	}
}

// A failing op before Done is Start's error, named by its step, and no
// child is left.
func TestStartProgFailureBeforeDone(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	_, err := Start(&Config{
		Namespaces: []specs.LinuxNamespace{{Type: "pid"}},
		Prog:       progFor(t, "true", true),
	}, nil)
	var se *step.Error
	if !errors.As(err, &se) || !errors.Is(err, unix.ENOENT) || se.Step.Op != "mkdirat" {
		t.Fatalf("err = %v, want the mkdirat step's ENOENT", err)
	}
	var ws unix.WaitStatus
	if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("wait4 = %d, %v: a child is left", pid, err)
	}
}

// After Done a failure goes to RegErr with the op's name, for `start`.
func TestStartProgFailureAfterDoneGoesToRegErr(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := &raw.Prog{}
	p.Add(raw.Op{Trap: raw.Set, Out: raw.RegErr, Args: [6]uintptr{3}}, step.Step{Op: "set"})
	p.Done(step.Step{Op: "done"})
	path, _ := p.Str("/no/such/program")
	argv, _ := p.Strs([]string{"x"})
	p.Sys(step.Step{Op: "execve", Args: `"/no/such/program"`}, unix.SYS_EXECVE, path, argv, argv)
	proc, err := Start(&Config{ExtraFiles: []*os.File{w}, Prog: p}, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	proc.Wait()
	got, ok := raw.DecodeFailure(b)
	if !ok || !errors.Is(got, unix.ENOENT) || got.Error() != `execve "/no/such/program": no such file or directory` {
		t.Fatalf("RegErr got %q (%v, %v)", b, got, ok)
	}
}

// A fault in the child's ops (here a nil Ptr) ends the child with
// SIGSEGV: Start fails at once instead of hanging in the Go runtime's
// handler, which cannot run without its threads.
func TestStartProgFaultEndsChild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	p := &raw.Prog{}
	p.Add(raw.Op{Trap: raw.Eq, Args: [6]uintptr{1: 1, 2: uintptr(unix.EIO), 3: 1}}, step.Step{Op: "check"})
	p.Done(step.Step{Op: "done"})
	_, err := Start(&Config{Namespaces: []specs.LinuxNamespace{{Type: "pid"}}, Prog: p}, nil)
	if err == nil || !strings.Contains(err.Error(), "exited before its setup was done") {
		t.Fatalf("err = %v, want the child's early exit", err)
	}
}
