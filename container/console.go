package container

import (
	"errors"
	"os"
	"strconv"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// DialConsoleSocket connects to --console-socket in the caller (before the
// container exists), so a path that is not a listening AF_UNIX socket is
// a clear error and nothing is left behind. The socket is opened once
// (O_PATH, refusing another user's planted symlink: see openNoPlanted)
// and connected to through /proc/self/fd/N, so the checked inode is the
// one we connect to.
func DialConsoleSocket(path string) (*os.File, error) {
	pfd, err := openNoPlanted(path, unix.O_PATH, 0)
	if err != nil {
		return nil, errorf("console socket: %w", err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return nil, errorf("console socket %s: fstat: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil, errorf("console socket %s is not a socket", path)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, errorf("console socket: socket: %w", err)
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: "/proc/self/fd/" + strconv.Itoa(pfd)})
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, errorf("console socket %s: connect: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// newPtyFrom makes a pseudo-terminal pair from an opened ptmx (the
// container's own devpts instance) and sizes it to process.consoleSize.
func newPtyFrom(ptmx *os.File, size *specs.Box) (console.Console, string, error) {
	pty, slave, err := console.NewPtyFromFile(ptmx)
	if err != nil {
		return nil, "", errorf("open pty: %w", err)
	}
	if size != nil {
		if err := pty.Resize(console.WinSize{Height: uint16(size.Height), Width: uint16(size.Width)}); err != nil {
			pty.Close()
			return nil, "", errorf("set console size: %w", err)
		}
	}
	return pty, slave, nil
}

// sendPty passes the pty master over the console socket with SCM_RIGHTS,
// as runc does: conmon and containerd-shim receive it there.
func sendPty(sock *os.File, pty console.Console) error {
	name := pty.Name()
	oob := unix.UnixRights(int(pty.Fd()))
	if err := unix.Sendmsg(int(sock.Fd()), []byte(name), oob, nil, 0); err != nil {
		return errorf("send pty master over console socket: %w", err)
	}
	return nil
}

// ttySteps make the pty's terminal end (opened from its master; slave
// gives it when the steps run) this process's stdin, stdout and stderr
// and its controlling terminal: dup3(2) onto 0, 1 and 2, setsid(2), then
// ioctl(TIOCSCTTY) (tty_ioctl(4)).
func ttySteps(slave func() *os.File) []step.Step {
	return []step.Step{
		{
			Op: "dup3", Args: "<pty>, 0 1 2",
			Why: "the terminal becomes stdin, stdout and stderr",
			Do: func() error {
				f := slave()
				defer f.Close() // now fds 0, 1 and 2
				for i := 0; i < 3; i++ {
					if err := unix.Dup3(int(f.Fd()), i, 0); err != nil {
						return errorf("dup pty slave to fd %d: %w", i, err)
					}
				}
				return nil
			},
		},
		{
			Op: "setsid", Why: "a session of our own: only a session leader gets a controlling terminal",
			Do: func() error {
				// EPERM: already a session leader.
				if _, err := unix.Setsid(); err != nil && !errors.Is(err, unix.EPERM) {
					return err
				}
				return nil
			},
		},
		{
			Op: "ioctl", Args: "0, TIOCSCTTY",
			Why: "the terminal becomes our controlling terminal",
			Do:  func() error { return unix.IoctlSetInt(0, unix.TIOCSCTTY, 0) },
		},
	}
}
