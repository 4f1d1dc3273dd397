package container

import (
	"io"
	"os"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// consolePair is a connected AF_UNIX pair standing in for
// --console-socket when run proxies the terminal itself.
func consolePair() (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console-ours"), os.NewFile(uintptr(fds[1]), "console-theirs"), nil
}

// recvFd receives one fd sent with SCM_RIGHTS.
func recvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errorf("receive pty master: no file descriptor")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errorf("receive pty master: no file descriptor")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// ttyProxy copies between our terminal (or plain stdio) and the
// container's pty master.
type ttyProxy struct {
	master  console.Console
	current console.Console // our own terminal, if stdin is one
	out     chan struct{}
}

func startTtyProxy(sock *os.File) (*ttyProxy, error) {
	f, err := recvFd(sock)
	if err != nil {
		return nil, err
	}
	master, err := console.ConsoleFromFile(f)
	if err != nil {
		f.Close()
		return nil, errorf("pty master: %w", err)
	}
	t := &ttyProxy{master: master, out: make(chan struct{})}
	if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
		t.current = cur
		cur.SetRaw()
		rawOutput(os.Stdin)
		t.resize()
	}
	go func() {
		io.Copy(master, os.Stdin)
	}()
	go func() {
		io.Copy(os.Stdout, master)
		close(t.out)
	}()
	return t, nil
}

// rawOutput clears OPOST on our terminal (termios(3)): the container's
// pty already turned "\n" into "\r\n", and ours must pass that on as
// it is, as runc's raw mode does. containerd/console's SetRaw keeps
// OPOST, which printed "\r\r\n".
func rawOutput(f *os.File) {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return
	}
	t.Oflag &^= unix.OPOST
	unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}

func (t *ttyProxy) resize() {
	if t.current != nil {
		t.master.ResizeFrom(t.current)
	}
}

// wait lets the output drain: reading the master fails with EIO once
// every holder of the terminal end has exited.
func (t *ttyProxy) wait() { <-t.out }

func (t *ttyProxy) restore() {
	if t.current != nil {
		t.current.Reset()
	}
}
