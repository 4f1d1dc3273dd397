package container

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// setupConsole gives the container a terminal (config.md
// "process.terminal"): a pty from the container's own devpts instance,
// its terminal end bound onto /dev/console and made our stdio and
// controlling terminal, its master sent to --console-socket.
//
// It runs after pivot_root, on the container's /dev: every path is
// opened without following symlinks and checked (a planted /dev/pts or
// /dev/console symlink must not redirect us: CVE-2025-52565).
func setupConsole(cfg *initConfig, run *step.Runner) error {
	steps, sock, err := consoleSteps(cfg)
	if err != nil {
		return err
	}
	defer sock.Close()
	return run.Run(steps...)
}

// consoleSteps are setupConsole's steps; the caller closes sock once
// they ran. The init runs them between the pivot and the rootfs's final
// read-only changes, so /dev/console can be made under a read-only /dev.
func consoleSteps(cfg *initConfig) ([]step.Step, *os.File, error) {
	if cfg.ConsoleFd < 0 {
		return nil, nil, fmt.Errorf("process.terminal is set but there is no console socket")
	}
	sock := os.NewFile(uintptr(cfg.ConsoleFd), "console-socket")
	var slave string
	steps := []step.Step{
		{
			Op: "open", Args: "/dev/pts/ptmx, O_RDWR|O_NOCTTY",
			Why: "a new pty pair on the container's devpts",
			Do: func() error {
				ptmx, err := openDevpts("ptmx")
				if err != nil {
					return err
				}
				pty, name, err := newPtyFrom(ptmx, cfg.Spec.Process.ConsoleSize)
				if err != nil {
					return err
				}
				defer pty.Close()
				slave = name
				return sendPty(sock, pty)
			},
		},
	}
	if !cfg.Exec {
		steps = append(steps, step.Step{
			Op: "mount", Args: "<pty>, /dev/console, MS_BIND",
			Why: "/dev/console is the container's terminal",
			Do:  func() error { return bindConsole(slave) },
		})
	}
	steps = append(steps, step.Step{
		Op: "dup3+setsid+ioctl", Args: "TIOCSCTTY",
		Why: "the terminal becomes stdin/stdout/stderr and the controlling terminal",
		Do:  func() error { return attachTty(slave) },
	})
	return steps, sock, nil
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

// bindConsole binds the pty's terminal end onto /dev/console, both pinned
// by fd: the target is created (or opened) in /dev without following
// symlinks and the mount goes to /proc/thread-self/fd/N.
func bindConsole(slave string) error {
	n, err := strconv.Atoi(slave[len("/dev/pts/"):])
	if err != nil {
		return fmt.Errorf("pty name %q: %w", slave, err)
	}
	src, err := openDevpts(strconv.Itoa(n))
	if err != nil {
		return err
	}
	defer src.Close()
	dev, err := unix.Open("/dev", unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer unix.Close(dev)
	dst, err := unix.Openat(dev, "console", unix.O_CREAT|unix.O_NOFOLLOW|unix.O_PATH|unix.O_CLOEXEC, 0o600)
	if err != nil {
		// O_CREAT with O_PATH is refused: create, then open.
		fd, cerr := unix.Openat(dev, "console", unix.O_CREAT|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o600)
		if cerr != nil {
			return fmt.Errorf("create /dev/console: %w", cerr)
		}
		dst = fd
	}
	defer unix.Close(dst)
	var st unix.Stat_t
	if err := unix.Fstat(dst, &st); err != nil {
		return fmt.Errorf("stat /dev/console: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG && st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return fmt.Errorf("/dev/console is neither a file nor a device")
	}
	from := "/proc/thread-self/fd/" + strconv.Itoa(int(src.Fd()))
	to := "/proc/thread-self/fd/" + strconv.Itoa(dst)
	if err := unix.Mount(from, to, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s onto /dev/console: %w", slave, err)
	}
	return nil
}
