package container

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/rootfs"
	"github.com/ctr-lite/ctr-lite/step"
)

// consoleSteps give the container a terminal (config.md
// "process.terminal"): a pty from the container's own devpts instance,
// its terminal end bound onto /dev/console (create) and made our stdio
// and controlling terminal, its master sent to --console-socket. The
// first step opens the console socket (p.ConsoleFd) into x.console; the
// caller closes it once they ran. The init runs them between the pivot
// and the rootfs's final read-only changes, so /dev/console can be made
// under a read-only /dev.
//
// They run after pivot_root, on the container's /dev: every path is
// opened without following symlinks and checked (a planted /dev/pts or
// /dev/console symlink must not redirect us: CVE-2025-52565).
func consoleSteps(p *Plan, exec bool, x *initIO) ([]step.Step, error) {
	if p.ConsoleFd < 0 {
		return nil, fmt.Errorf("process.terminal is set but there is no console socket")
	}
	size := p.Process.Process.ConsoleSize
	var slave *os.File // the terminal end, opened once from the master; closed by the last step
	steps := []step.Step{
		{
			Op: "open", Args: "/dev/pts/ptmx, O_RDWR|O_NOCTTY; ioctl TIOCGPTPEER",
			Why: "a new pty pair on the container's devpts; its terminal end opened from the master, not by name",
			Do: func() error {
				ptmx, err := openDevpts("ptmx")
				if err != nil {
					return err
				}
				pty, name, err := newPtyFrom(ptmx, size)
				if err != nil {
					return err
				}
				defer pty.Close()
				if slave, err = ptyPeer(pty, name); err != nil {
					return err
				}
				x.console = os.NewFile(uintptr(p.ConsoleFd), "console-socket")
				return sendPty(x.console, pty)
			},
		},
	}
	if !exec {
		steps = append(steps, rootfs.ConsoleStep(func() *os.File { return slave }))
	}
	steps = append(steps, ttySteps(func() *os.File { return slave })...)
	return steps, nil
}

// ptyPeer opens the terminal end of the pty whose master is pty with
// ioctl(TIOCGPTPEER) (Linux 4.13): the very pty, with no path to look up
// in a /dev/pts the container's processes may have changed. Older
// kernels open /dev/pts/N, checked to be on a devpts.
func ptyPeer(pty interface{ Fd() uintptr }, name string) (*os.File, error) {
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, pty.Fd(), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno == 0 {
		return os.NewFile(fd, name), nil
	}
	if errno != unix.EINVAL && errno != unix.ENOTTY {
		return nil, fmt.Errorf("ioctl TIOCGPTPEER: %w", errno)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(name, "/dev/pts/"))
	if err != nil {
		return nil, fmt.Errorf("pty name %q: %w", name, err)
	}
	return openDevpts(strconv.Itoa(n))
}

// openDevpts opens /dev/pts/NAME, refusing symlinks on the way and
// anything that is not on a devpts file system.
func openDevpts(name string) (*os.File, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, "/dev/pts/"+name, &unix.OpenHow{
		Flags:   unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, fmt.Errorf("open /dev/pts/%s: %w", name, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.DEVPTS_SUPER_MAGIC {
		unix.Close(fd)
		return nil, fmt.Errorf("/dev/pts/%s is not on a devpts file system", name)
	}
	return os.NewFile(uintptr(fd), "/dev/pts/"+name), nil
}
