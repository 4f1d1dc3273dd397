package rootfs

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// ConsoleStep binds the pty's terminal end onto /dev/console
// (BindConsole); pty gives it when the step runs, as an earlier step
// opens it.
func ConsoleStep(pty func() *os.File) step.Step {
	return step.Step{
		Op: "mount", Args: "<pty>, /dev/console, open_tree+move_mount",
		Why: "/dev/console is the container's terminal",
		Do:  func() error { return BindConsole(pty()) },
	}
}

// BindConsole binds a pty's terminal end, src, onto /dev/console of the
// current root (config.md "process.terminal"; runc does the same), both
// pinned by fd: the target is created (or opened) in /dev without
// following symlinks, and the bind is open_tree+move_mount from fd to fd
// (no /proc/thread-self path through the container's own /proc). It runs
// after pivot_root, on the container's /dev, where a planted /dev/console
// symlink must not redirect it (CVE-2025-52565).
func BindConsole(src *os.File) error {
	dev, err := unix.Open("/dev", unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return errorf("open /dev: %w", err)
	}
	defer unix.Close(dev)
	dst, err := unix.Openat(dev, "console", unix.O_CREAT|unix.O_NOFOLLOW|unix.O_PATH|unix.O_CLOEXEC, 0o600)
	if err != nil {
		// O_CREAT with O_PATH is refused: create, then open.
		fd, cerr := unix.Openat(dev, "console", unix.O_CREAT|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o600)
		if cerr != nil {
			return errorf("create /dev/console: %w", cerr)
		}
		dst = fd
	}
	target := os.NewFile(uintptr(dst), "/dev/console")
	defer target.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(target.Fd()), &st); err != nil {
		return errorf("stat /dev/console: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG && st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return errorf("/dev/console is neither a file nor a device")
	}
	if err := BindFile(src, target); err != nil {
		return errorf("bind %s onto /dev/console: %w", src.Name(), err)
	}
	return nil
}
