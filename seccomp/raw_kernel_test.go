package seccomp_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/seccomp"
	"github.com/ctr-lite/ctr-lite/step"
)

// A raw child loads a filter with a listener and hands the listener to
// its parent over a socket, then waits for the answer; a wrong answer
// fails it.
func TestLoadRawListenerHandsListenerOver(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN to load a filter without no_new_privs)")
	}
	native, err := seccomp.NativeArch()
	if err != nil {
		t.Fatal(err)
	}
	f, err := seccomp.Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/unused",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActNotify}}}, native)
	if err != nil {
		t.Fatal(err)
	}
	msg, ack := []byte("here is the listener"), []byte("passed on to the agent")
	for _, answer := range []string{string(ack), "passed on to the agenT"} {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		parent, child := os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child")
		p := &raw.Prog{}
		sock := p.Reg()
		p.Add(raw.Op{Trap: raw.Set, Out: sock, Args: [6]uintptr{3}}, step.Step{Op: "set"})
		if err := seccomp.LoadRawListener(p, f, seccomp.RawListener{Sock: sock, Msg: msg, Ack: ack}); err != nil {
			t.Fatal(err)
		}
		p.Done(step.Step{Op: "done"})
		path, _ := p.Str("/bin/busybox")
		argv, _ := p.Strs([]string{"true"})
		p.Sys(step.Step{Op: "execve"}, unix.SYS_EXECVE, path, argv, argv)

		got := make(chan string, 1)
		go func() {
			buf, oob := make([]byte, len(msg)), make([]byte, unix.CmsgSpace(4))
			n, oobn, _, _, err := unix.Recvmsg(int(parent.Fd()), buf, oob, unix.MSG_WAITALL|unix.MSG_CMSG_CLOEXEC)
			if err != nil {
				got <- err.Error()
				return
			}
			cm, _ := unix.ParseSocketControlMessage(oob[:oobn])
			if len(cm) != 1 {
				got <- "no fd"
				return
			}
			lfds, _ := unix.ParseUnixRights(&cm[0])
			link, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(lfds[0]))
			unix.Close(lfds[0])
			parent.Write([]byte(answer))
			got <- string(buf[:n]) + " | " + link
		}()
		proc, err := namespaces.Start(&namespaces.Config{ExtraFiles: []*os.File{child}, Prog: p}, nil)
		child.Close()
		if g := <-got; g != string(msg)+" | anon_inode:seccomp notify" {
			t.Errorf("parent received %q", g)
		}
		parent.Close()
		if answer != string(ack) {
			if !errors.Is(err, unix.EPROTO) || !strings.Contains(err.Error(), "seccomp listener: protocol error") {
				t.Errorf("wrong answer: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if st, err := proc.Wait(); err != nil || !st.Success() {
			t.Errorf("child: %v %v", st, err)
		}
	}
}
