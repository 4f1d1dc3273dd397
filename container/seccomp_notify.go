package container

import (
	"encoding/json"
	"errors"
	"os"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Seccomp user notification (config-linux.md "seccomp", listenerPath):
// the init loads a filter with SCMP_ACT_NOTIFY rules and gets its
// listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER); it sends the fd to the
// runtime over the sync socket (msgSeccomp, SCM_RIGHTS) and closes its
// copy, so the program never holds it; the runtime connects to
// listenerPath and sends the container process state with the fd, then
// answers msgSeccompDone. As runc, the filter is loaded (and the fd sent)
// right before execve with no_new_privs, or before the user and
// capability change without it.
const (
	msgSeccomp     = "seccomp"
	msgSeccompDone = "seccomp-done"
)

// sendListener is the init's side: the listener fd to the runtime, then
// wait until the runtime has passed it on. l is closed.
func sendListener(sock *os.File, l *os.File) error {
	err := sendMsgFd(sock, &syncMsg{Type: msgSeccomp}, int(l.Fd()))
	l.Close()
	if err != nil {
		return errorf("send seccomp listener fd to the runtime: %w", err)
	}
	if err := awaitMsg(sock, msgSeccompDone); err != nil {
		return errorf("seccomp listener: %w", err)
	}
	return nil
}

// recvSyncMsg reads one syncMsg and the fd only msgSeccomp carries
// (nil otherwise); a stray fd is closed.
func recvSyncMsg(f *os.File, m *syncMsg) (*os.File, error) {
	fd, err := recvMsgFd(f, m)
	if err != nil {
		return nil, err
	}
	if fd < 0 {
		return nil, nil
	}
	if m.Type != msgSeccomp {
		unix.Close(fd)
		return nil, errorf("init sent an unexpected fd with %q", m.Type)
	}
	return os.NewFile(uintptr(fd), "seccomp-listener"), nil
}

// passListener is the runtime's side of msgSeccomp: send l, with the
// container process state, to the seccomp agent at listenerPath. For
// create (h set) the state is "creating" and pid the init's; for exec,
// "running" and pid the new process's, as runc does.
func (c *Container) passListener(h *Handle, l *os.File) error {
	if l == nil {
		return errors.New("init sent no seccomp listener fd")
	}
	defer l.Close()
	var st *specs.State
	var pid int
	var cfg *specs.Spec
	if h != nil {
		st, pid, cfg = ociState(&h.State, specs.StateCreating), h.State.Pid, h.State.Config
	} else {
		st, cfg = ociState(&c.State, specs.StateRunning), c.State.Config
		if c.Init != nil {
			pid = c.Init.Pid
		}
	}
	if cfg == nil || cfg.Linux == nil || cfg.Linux.Seccomp == nil || cfg.Linux.Seccomp.ListenerPath == "" {
		return errors.New("seccomp listener fd received but linux.seccomp.listenerPath is not set")
	}
	sc := cfg.Linux.Seccomp
	return sendContainerProcessState(sc.ListenerPath, &specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State:    *st,
	}, l)
}

// sendContainerProcessState sends state and fd in one message over a new
// SOCK_STREAM connection to path, then closes it (config-linux.md: one
// state per connection, the fds in SCM_RIGHTS in the order of state.fds).
// Raw socket(2), connect(2) and sendmsg(2), not package net, which would
// bring its resolver into the binary for this one connection.
func sendContainerProcessState(path string, state *specs.ContainerProcessState, fd *os.File) error {
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return errorf("seccomp listener %s: socket: %w", path, err)
	}
	defer unix.Close(sock)
	if err := ignoringEINTR(func() error { return unix.Connect(sock, &unix.SockaddrUnix{Name: path}) }); err != nil {
		return errorf("seccomp listener %s: %w", path, err)
	}
	var n int
	err = ignoringEINTR(func() (err error) {
		n, err = unix.SendmsgN(sock, data, unix.UnixRights(int(fd.Fd())), nil, 0)
		return err
	})
	// A stream sendmsg may send less than all (a signal, large
	// annotations): the rest follows on the stream, without the fd.
	for err == nil && n < len(data) {
		var m int
		err = ignoringEINTR(func() (err error) {
			m, err = unix.Write(sock, data[n:])
			return err
		})
		n += m
	}
	runtime.KeepAlive(fd)
	if err != nil {
		return errorf("seccomp listener %s: send state and fd: %w", path, err)
	}
	return nil
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}
