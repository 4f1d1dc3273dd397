package container

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// The runtime and the container's init talk over a SOCK_STREAM socket
// pair, in length-prefixed messages (see sendMsg): the runtime sends an
// initConfig, the init answers with syncMsg values.

// initConfig is everything the init needs; it arrives as one message,
// of any size: the plan (its init side: what the init sets up, resolved
// and validated by the runtime) and how this start is wired.
type initConfig struct {
	Plan *Plan `json:"plan"`
	// Exec is set for `ctr-lite exec`: the init joins a running container
	// and sets up only the process, not the root filesystem.
	Exec bool `json:"exec,omitempty"`
	// MountSources are the indices in Plan.Rootfs.Mounts of the bind
	// mounts whose source the runtime opened (bindSources); one
	// msgMountSource each, with the fd, follows this config.
	MountSources []int `json:"mount_sources,omitempty"`
	mountFds     map[int]*os.File
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

// Framing: each message is an 8-byte big-endian length, then that many
// bytes of JSON. A SOCK_STREAM socket has no message size limit (a
// SOCK_SEQPACKET message must fit the socket's send buffer, about 208 KiB
// by default, net.core.wmem_default: a long environment or many mounts
// did not), so a config is bounded only by memory, as runc's is.
const msgHeaderLen = 8

// sendMsg writes v as one framed message. os.File.Write loops until all
// of it is written, however small the socket's buffer.
func sendMsg(f *os.File, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf := make([]byte, msgHeaderLen, msgHeaderLen+len(data))
	binary.BigEndian.PutUint64(buf, uint64(len(data)))
	if _, err := f.Write(append(buf, data...)); err != nil {
		return fmt.Errorf("write to sync socket: %w", err)
	}
	return nil
}

// sendMsgFd is sendMsg with a file descriptor passed along (SCM_RIGHTS,
// unix(7)); the receiver takes it with recvMsgFd. The fd rides on the
// header's bytes, so the receiver gets it with the same message.
func sendMsgFd(f *os.File, v any, fd int) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	hdr := make([]byte, msgHeaderLen)
	binary.BigEndian.PutUint64(hdr, uint64(len(data)))
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("write to sync socket: %w", err)
	}
	var serr error
	err = rc.Write(func(s uintptr) bool {
		serr = unix.Sendmsg(int(s), hdr, unix.UnixRights(fd), nil, 0)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err != nil {
		return fmt.Errorf("write to sync socket: %w", err)
	}
	return nil
}

// errPeerClosed: EOF where a message would start.
var errPeerClosed = errors.New("read from sync socket: peer closed")

// recvMsg reads one framed message into v. EOF before a message means
// the peer closed its end (it exited, or execve closed the
// close-on-exec socket).
func recvMsg(f *os.File, v any) error {
	return recvBody(f, v, nil)
}

// recvMsgFd reads a message sent by sendMsgFd and returns the file
// descriptor that came with it (close-on-exec), or -1 if none did.
func recvMsgFd(f *os.File, v any) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("read from sync socket: %w", err)
	}
	hdr := make([]byte, msgHeaderLen)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var rerr error
	err = rc.Read(func(s uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(s), hdr, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_WAITALL)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return -1, fmt.Errorf("read from sync socket: %w", err)
	}
	fd := -1
	if cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, c := range cmsgs {
			if fds, err := unix.ParseUnixRights(&c); err == nil {
				for _, x := range fds {
					if fd < 0 {
						fd = x
					} else {
						unix.Close(x)
					}
				}
			}
		}
	}
	if n == 0 {
		return fd, errPeerClosed
	}
	if err := recvBody(f, v, hdr[:n]); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, err
	}
	return fd, nil
}

// recvBody reads the rest of a header (got holds what was read of it)
// and the body.
func recvBody(f *os.File, v any, got []byte) error {
	hdr := make([]byte, msgHeaderLen)
	n := copy(hdr, got)
	if k, err := io.ReadFull(f, hdr[n:]); err != nil {
		if n+k == 0 && errors.Is(err, io.EOF) {
			return errPeerClosed
		}
		return fmt.Errorf("read from sync socket: %w", err)
	}
	size := binary.BigEndian.Uint64(hdr)
	if size > math.MaxInt {
		return fmt.Errorf("read from sync socket: message of %d bytes", size)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(f, buf); err != nil {
		return fmt.Errorf("read from sync socket: %w", err)
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("decode sync message: %w", err)
	}
	return nil
}

// socketPair returns the runtime's end and the init's end.
func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}
