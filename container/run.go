package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// RunOpts are `run`'s flags: create's, plus detach and keep.
type RunOpts struct {
	CreateOpts
	// Detach returns once the container runs (run -d).
	Detach bool
	// Keep leaves a foreground container's state after it exits.
	Keep bool
	// NoSubreaper: in the foreground, do not become the child subreaper
	// (runc run --no-subreaper). By default, as runc, processes of the
	// container orphaned outside its PID namespace (none, or the host's)
	// are reparented to `run` (prctl PR_SET_CHILD_SUBREAPER) rather than
	// to the host's init.
	NoSubreaper bool
}

// Run creates and starts a container (runc run). In the foreground it
// forwards signals to the init, proxies the terminal when there is one
// and no console socket, waits, deletes the container unless Keep, and
// returns the exit status: the program's, or 128+N if signal N killed it.
func (r Root) Run(o RunOpts) (int, error) {
	spec, _, err := LoadBundle(o.Bundle)
	if err != nil {
		return 1, err
	}
	if !o.Detach && !o.NoSubreaper {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return 1, fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", err)
		}
	}
	var ptyConn *os.File
	if spec.Process.Terminal && o.ConsoleSocket == "" {
		if o.Detach {
			return 1, errors.New("cannot allocate a terminal for a detached container without --console-socket")
		}
		ours, theirs, err := consolePair()
		if err != nil {
			return 1, err
		}
		defer ours.Close()
		o.consoleConn = theirs
		ptyConn = ours
	}
	c, err := r.Create(o.CreateOpts)
	if o.consoleConn != nil {
		o.consoleConn.Close()
	}
	if err != nil {
		return 1, err
	}
	var tty *ttyProxy
	if ptyConn != nil {
		if tty, err = startTtyProxy(ptyConn); err != nil {
			r.Delete(o.ID, true, nil)
			return 1, err
		}
		defer tty.restore()
	}
	// Forward signals from here on: a signal before start reaches the
	// init too, as with runc.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := r.Start(o.ID); err != nil {
		r.Delete(o.ID, true, nil)
		return 1, err
	}
	if o.Detach {
		return 0, nil
	}
	code := waitForeground(c, sigs, tty)
	if !o.Keep {
		if err := r.Delete(o.ID, true, nil); err != nil {
			return code, err
		}
	}
	return code, nil
}

// forwardedSignals are what a foreground run or exec passes on to the
// container: every signal a user or a supervisor sends, and SIGWINCH for
// the terminal. Listing them, rather than signal.Notify with none (all
// 64), saves 1-3 ms of sigaction calls on every run.
var forwardedSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGPWR,
	unix.SIGVTALRM, unix.SIGPROF, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGWINCH,
}

func forwardSignal(c *Container, s os.Signal, tty *ttyProxy) {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return
	}
	switch sig {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
		// SIGCHLD is ours (the init is our child); the Go runtime uses
		// SIGURG for preemption.
		return
	case unix.SIGWINCH:
		if tty != nil {
			tty.resize()
		}
		return
	}
	unix.Kill(c.Init.Pid, sig)
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 255
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// consolePair is a connected AF_UNIX pair standing in for
// --console-socket when run proxies the terminal itself.
func consolePair() (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console-ours"), os.NewFile(uintptr(fds[1]), "console-theirs"), nil
}

// recvFd receives one fd sent with SCM_RIGHTS.
func recvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive pty master: no file descriptor")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("receive pty master: no file descriptor")
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
		return nil, fmt.Errorf("pty master: %w", err)
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
