package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/seccomp"
)

// The runtime and the container's init talk over a SOCK_SEQPACKET socket
// pair (each write is one message): the runtime sends an initConfig, the
// init answers with syncMsg values.

// initConfig is everything the init needs; it arrives as one message.
type initConfig struct {
	ID      string      `json:"id"`
	Bundle  string      `json:"bundle"`
	Rootfs  string      `json:"rootfs"`
	Spec    *specs.Spec `json:"spec"`
	NoPivot bool        `json:"no_pivot,omitempty"`
	// Exec is set for `ctr-lite exec`: the init joins a running container
	// and sets up only the process, not the root filesystem.
	Exec bool `json:"exec,omitempty"`
	// Seccomp is linux.seccomp compiled by the runtime (compileSeccomp).
	Seccomp *seccomp.Filter `json:"seccomp,omitempty"`
	// NewCgroupNS: the init makes the container's cgroup namespace
	// itself, after it is placed in the cgroup.
	NewCgroupNS bool `json:"new_cgroup_ns,omitempty"`
	// Fds: where the runtime put the files it passed (-1: none).
	FifoFd       int  `json:"fifo_fd"`
	ConsoleFd    int  `json:"console_fd"`
	PreserveFds  int  `json:"preserve_fds"`
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`
	Explain      bool `json:"explain,omitempty"`
}

// syncMsg is the init's answer: "ready" once it waits for start (or is
// about to exec, for exec), "hooks" when the runtime must run the
// createRuntime hooks, or "error" with the message.
type syncMsg struct {
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
}

const (
	msgReady = "ready"
	msgHooks = "hooks"
	msgError = "error"
	msgGo    = "go"
	// msgPlaced: the runtime put the init in the container's cgroup.
	msgPlaced = "placed"
)

// awaitMsg reads one message and checks its type.
func awaitMsg(f *os.File, want string) error {
	var m syncMsg
	if err := recvMsg(f, &m); err != nil {
		return err
	}
	if m.Type == msgError {
		return errors.New(m.Error)
	}
	if m.Type != want {
		return fmt.Errorf("runtime sent %q, expected %q", m.Type, want)
	}
	return nil
}

func sendMsg(f *os.File, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write to sync socket: %w", err)
	}
	return nil
}

// recvMsg reads one message. The first read only peeks at its length
// (MSG_PEEK|MSG_TRUNC gives a SEQPACKET message's full size), so the
// buffer fits the message: most are a few bytes, a config with a seccomp
// profile some tens of kilobytes. An empty read means the peer is gone.
func recvMsg(f *os.File, v any) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("read from sync socket: %w", err)
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("read from sync socket: %w", err)
	}
	if n == 0 {
		return errors.New("read from sync socket: peer closed")
	}
	buf := make([]byte, n)
	if n, err = f.Read(buf); err != nil {
		return fmt.Errorf("read from sync socket: %w", err)
	}
	if err := json.Unmarshal(buf[:n], v); err != nil {
		return fmt.Errorf("decode sync message: %w", err)
	}
	return nil
}

// socketPair returns the runtime's end and the init's end.
func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}
