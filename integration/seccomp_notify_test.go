package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// seccompNotif and seccompNotifResp are struct seccomp_notif and struct
// seccomp_notif_resp (<linux/seccomp.h>); x/sys/unix has the ioctl
// numbers but not the layouts.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// seccompAgent is a small seccomp agent (the listenerPath end): for each
// connection it reads the container process state and the listener fd,
// then answers every notified syscall: the chmod family fails with
// EACCES, everything else (the mkdir family) with ENOMEDIUM.
type seccompAgent struct {
	t      *testing.T
	path   string
	ln     *net.UnixListener
	mu     sync.Mutex
	states []specs.ContainerProcessState
	fdsIn  []int // fds the agent received, for the leak check
	errs   []error
	wg     sync.WaitGroup
}

// chmodNrs are the chmod family's numbers on this machine.
func chmodNrs() map[int32]bool {
	m := map[int32]bool{unix.SYS_FCHMODAT: true, 452 /* fchmodat2 */ : true, unix.SYS_FCHMOD: true}
	if runtime.GOARCH == "amd64" {
		m[90] = true // chmod
	}
	return m
}

func startSeccompAgent(t *testing.T) *seccompAgent {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	a := &seccompAgent{t: t, path: path, ln: ln}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return // closed by stop
			}
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				if err := a.serve(conn); err != nil {
					a.mu.Lock()
					a.errs = append(a.errs, err)
					a.mu.Unlock()
				}
			}()
		}
	}()
	t.Cleanup(a.stop)
	return a
}

func (a *seccompAgent) serve(conn *net.UnixConn) error {
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err == nil {
		// A state larger than one read (big annotations) follows on
		// the stream; the runtime closes the connection after it.
		var rest []byte
		rest, err = io.ReadAll(conn)
		buf = append(buf[:n], rest...)
		n = len(buf)
	}
	conn.Close()
	if err != nil {
		return err
	}
	var fds []int
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return err
	}
	for _, c := range cmsgs {
		f, err := unix.ParseUnixRights(&c)
		if err != nil {
			return err
		}
		fds = append(fds, f...)
	}
	var st specs.ContainerProcessState
	jerr := json.Unmarshal(buf[:n], &st)
	a.mu.Lock()
	a.states = append(a.states, st)
	a.fdsIn = append(a.fdsIn, fds...)
	a.mu.Unlock()
	if jerr != nil {
		return fmt.Errorf("state is not JSON: %v: %q", jerr, buf[:n])
	}
	if len(fds) != 1 {
		return fmt.Errorf("got %d fds, want 1", len(fds))
	}
	defer unix.Close(fds[0])
	chmod := chmodNrs()
	for {
		// Poll first: NOTIF_RECV does not return once the filter's
		// last task is gone; POLLHUP says so.
		pfd := []unix.PollFd{{Fd: int32(fds[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 30000); err != nil && err != unix.EINTR {
			return err
		}
		if pfd[0].Revents&unix.POLLHUP != 0 {
			return nil
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			continue
		}
		var req seccompNotif
		if err := ioctlPtr(fds[0], unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&req)); err != nil {
			if err == unix.ENOENT || err == unix.EINTR {
				continue // the caller died meanwhile
			}
			return fmt.Errorf("SECCOMP_IOCTL_NOTIF_RECV: %w", err)
		}
		resp := seccompNotifResp{ID: req.ID, Error: -int32(unix.ENOMEDIUM)}
		if chmod[req.Nr] {
			resp.Error = -int32(unix.EACCES)
		}
		if err := ioctlPtr(fds[0], unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)); err != nil && err != unix.ENOENT {
			return fmt.Errorf("SECCOMP_IOCTL_NOTIF_SEND: %w", err)
		}
	}
}

func ioctlPtr(fd int, req uint, p unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
	if e != 0 {
		return e
	}
	return nil
}

// stop closes the socket and waits for the connections: each ends when
// its filter's last process is gone.
func (a *seccompAgent) stop() {
	a.ln.Close()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		a.t.Errorf("seccomp agent: a listener fd never hung up (a container process is left holding the filter)")
	}
	for _, err := range a.errs {
		a.t.Errorf("seccomp agent: %v", err)
	}
}

// next waits for the state of the i-th connection.
func (a *seccompAgent) state(i int) specs.ContainerProcessState {
	a.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		a.mu.Lock()
		n := len(a.states)
		var st specs.ContainerProcessState
		if n > i {
			st = a.states[i]
		}
		a.mu.Unlock()
		if n > i {
			return st
		}
	}
	a.t.Fatalf("seccomp agent: no connection #%d", i+1)
	return specs.ContainerProcessState{}
}

func (a *seccompAgent) connections() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.states)
}

// notifyScript does what the agent answers and what it does not see; its
// output goes to /data/out.
const notifyScript = `exec >/data/out.tmp 2>&1
mkdir /data/newdir; echo mkdir=$?
touch /data/file; echo touch=$?
chmod 600 /data/file; echo chmod=$?
echo hello >/data/file; cat /data/file
ls -l /proc/$$/fd/
mv /data/out.tmp /data/out`

func checkNotifyOutput(t *testing.T, what, dir string) {
	t.Helper()
	out := waitFile(t, filepath.Join(dir, "out"))
	for _, want := range []string{"mkdir=1", "No medium found", "touch=0", "chmod=1", "Permission denied", "hello"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s: output lacks %q:\n%s", what, want, out)
		}
	}
	if strings.Contains(out, "seccomp") {
		t.Errorf("%s: the program holds a seccomp listener fd (only the agent may):\n%s", what, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "newdir")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: mkdir answered by the agent still made the directory (%v)", what, err)
	}
	os.Remove(filepath.Join(dir, "out"))
	os.Remove(filepath.Join(dir, "file"))
}

func checkProcessState(t *testing.T, what string, st specs.ContainerProcessState, id, bundle, status, metadata string) {
	t.Helper()
	if st.Version == "" || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName || st.Pid <= 0 ||
		st.Metadata != metadata || st.State.ID != id || string(st.State.Status) != status ||
		st.State.Bundle != bundle || st.State.Pid <= 0 || st.State.Version == "" {
		t.Errorf("%s: container process state %+v, want fds [seccompFd], metadata %q, id %q, status %q, bundle %q, pids set",
			what, st, metadata, id, status, bundle)
	}
}

// TestUserAnswersSyscallsWithSeccompAgent: SCMP_ACT_NOTIFY rules send
// mkdir and chmod to a seccomp agent listening on linux.seccomp.listenerPath
// (config-linux.md); the runtime hands it the listener fd with the
// container process state, for run, create/start and exec. The agent's
// answers reach the program; other syscalls are not affected.
func TestUserAnswersSyscallsWithSeccompAgent(t *testing.T) {
	agent := startSeccompAgent(t)
	b := newBundle(t, "notify", "sh", "-c", notifyScript)
	data := b.hostDir("/data")
	b.spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		ListenerPath: agent.path, ListenerMetadata: "meta-1",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat", "chmod", "fchmod", "fchmodat", "fchmodat2"}, Action: specs.ActNotify}}}
	b.write()

	// run; without no_new_privs the filter is loaded (and the fd sent)
	// before the user and capability change, as runc does.
	b.spec.Process.NoNewPrivileges = false
	b.write()
	id := b.track(b.id + "-nnp0")
	if r := b.ctr("run", "-b", b.dir, id); r.code != 0 {
		t.Fatalf("run without noNewPrivileges: %s", r)
	}
	checkNotifyOutput(t, "run without noNewPrivileges", data)
	checkProcessState(t, "run without noNewPrivileges", agent.state(0), id, b.dir, "creating", "meta-1")
	b.spec.Process.NoNewPrivileges = true
	b.write()
	if r := b.ctr("run", "-b", b.dir, b.id); r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	checkNotifyOutput(t, "run", data)
	st := agent.state(1)
	checkProcessState(t, "run", st, b.id, b.dir, "creating", "meta-1")
	if st.Pid != st.State.Pid {
		t.Errorf("run: pid %d, state.pid %d: want both the init's", st.Pid, st.State.Pid)
	}

	// create, then start: the agent gets the fd during create.
	id = b.track(b.id + "-cs")
	b.mustDetached("create", "-b", b.dir, id)
	checkProcessState(t, "create", agent.state(2), id, b.dir, "creating", "meta-1")
	b.must("start", id)
	checkNotifyOutput(t, "create/start", data)
	b.waitStatus(id, "stopped")
	b.must("delete", id)

	// exec: a new filter and listener for the new process.
	b.spec.Process.Args = []string{"sleep", "1000"}
	b.write()
	id = b.track(b.id + "-exec")
	b.mustDetached("run", "-d", "-b", b.dir, id)
	init := agent.state(3)
	checkProcessState(t, "run -d", init, id, b.dir, "creating", "meta-1")
	if r := b.ctr("exec", id, "sh", "-c", notifyScript); r.code != 0 {
		t.Fatalf("exec: %s", r)
	}
	checkNotifyOutput(t, "exec", data)
	st = agent.state(4)
	checkProcessState(t, "exec", st, id, b.dir, "running", "meta-1")
	if st.State.Pid != init.Pid || st.Pid == init.Pid {
		t.Errorf("exec: pid %d, state.pid %d: want the exec'd process's and the init's (%d)", st.Pid, st.State.Pid, init.Pid)
	}
	b.must("delete", "--force", id)
	if n := agent.connections(); n != 5 {
		t.Errorf("agent got %d connections, want 5 (run twice, create, run -d, exec)", n)
	}
	b.wantNothingLeft()
}

// TestUserGetsOneLineErrorForSeccompNotifyMistakes: what runc refuses about
// SCMP_ACT_NOTIFY is refused at create, with one line, and nothing is left.
func TestUserGetsOneLineErrorForSeccompNotifyMistakes(t *testing.T) {
	b := newBundle(t, "notifybad", "true")
	agent := filepath.Join(t.TempDir(), "nobody.sock")
	for _, tc := range []struct {
		seccomp *specs.LinuxSeccomp
		want    string
	}{
		{&specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}},
			"SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerMetadata: "m"},
			"listenerMetadata is set but listenerPath is not"},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: agent},
			"SCMP_ACT_NOTIFY cannot be the default action"},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: agent,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"write"}, Action: specs.ActNotify}}},
			"SCMP_ACT_NOTIFY cannot be used for the write syscall"},
		// Nobody listens: the init is stopped before the program runs.
		{&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: agent,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}},
			"seccomp listener " + agent + ": no such file or directory"},
	} {
		b.spec.Linux.Seccomp = tc.seccomp
		b.write()
		r := b.fail([]string{"run", "-b", b.dir, b.id}, tc.want)
		t.Logf("%s", r.stderr)
		if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("error is not one line:\n%s", r.stderr)
		}
	}
	b.wantNothingLeft()
}
