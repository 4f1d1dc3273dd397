// Package procfs opens files of a procfs (proc(5)) so that a write meant
// for the kernel cannot land anywhere else. It is the one place ctr-lite
// checks /proc: rootfs (sysctls written through the container's /proc,
// /proc/thread-self/fd used as mount targets), process (sysctl and
// oom_score_adj) and container (the LSM label in attr/exec) all use it.
//
// A container image, or a mount racing with us, can put a tmpfs, a bind
// mount or symlinks at /proc or below it, so that a write lands in a
// plain file or in a different procfs file (CVE-2019-16884, where runc
// wrote the AppArmor label into a fake /proc; CVE-2025-52881, writes
// redirected through a fake /proc). So:
//
//  1. the procfs root is opened O_PATH|O_NOFOLLOW and checked to be a
//     procfs: fstatfs(2) f_type == PROC_SUPER_MAGIC (Check);
//  2. the file is resolved below it with openat2(2)
//     RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS (one
//     component at a time with O_NOFOLLOW on kernels before 5.6), so
//     neither ".." nor a symlink such as "self" or "thread-self" is
//     followed: callers name /proc/PID or /proc/PID/task/TID;
//  3. the file opened is checked to be on a procfs too: a bind mount of
//     a plain file over /proc/sys/... is refused.
//
// Linux only.
package procfs

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Check returns an error unless f is on a procfs (fstatfs(2) f_type
// PROC_SUPER_MAGIC). Use it on every file opened under /proc before
// writing through it, or before passing /proc/thread-self/fd/N paths to
// the kernel.
func Check(f *os.File) error {
	return check(int(f.Fd()), f.Name())
}

func check(fd int, name string) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return errorf("fstatfs %s: %w", name, err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return errorf("%s is not on a procfs (f_type %#x, want PROC_SUPER_MAGIC %#x): refusing to write through it",
			name, st.Type, unix.PROC_SUPER_MAGIC)
	}
	return nil
}

// Open opens rel (relative, no symlinks: "sys/net/ipv4/ip_forward",
// "123/oom_score_adj") below the procfs mounted at proc with open(2)
// flags (O_CLOEXEC|O_NOFOLLOW are added), after the checks in the
// package doc; proc itself must not be a symlink. Errors name proc/rel;
// one that is not on a procfs says "not on a procfs".
func Open(proc, rel string, flags int) (*os.File, error) {
	fd, err := unix.Open(proc, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errorf("open %s: %w", proc, err)
	}
	dir := os.NewFile(uintptr(fd), proc)
	defer dir.Close()
	return OpenAt(dir, rel, flags)
}

// OpenAt is Open below a procfs directory already open as dir (for
// example one resolved inside a container's rootfs).
func OpenAt(dir *os.File, rel string, flags int) (*os.File, error) {
	if err := Check(dir); err != nil {
		return nil, err
	}
	how := &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(int(dir.Fd()), rel, how)
	if errors.Is(err, unix.ENOSYS) {
		fd, err = openNoFollow(int(dir.Fd()), rel, flags) // kernel before 5.6
	}
	name := strings.TrimSuffix(dir.Name(), "/") + "/" + rel
	if err != nil {
		return nil, errorf("open %s: %w", name, err)
	}
	if err := check(fd, name); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openNoFollow walks rel one component at a time with O_NOFOLLOW.
func openNoFollow(dir int, rel string, flags int) (int, error) {
	parts := strings.Split(rel, "/")
	cur := dir
	for i, p := range parts {
		if p == "" || p == "." || p == ".." {
			return -1, errorf("component %q: %w", p, unix.EINVAL)
		}
		fl := unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if i == len(parts)-1 {
			fl = flags | unix.O_NOFOLLOW | unix.O_CLOEXEC
		}
		next, err := unix.Openat(cur, p, fl, 0)
		if cur != dir {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur = next
	}
	return cur, nil
}

// Write writes val to proc/rel (see Open) in one write(2): procfs files
// act on each write. A write error is the bare errno (the caller's step
// names the file).
func Write(proc, rel, val string) error {
	f, err := Open(proc, rel, unix.O_WRONLY)
	if err != nil {
		return err
	}
	return write(f, val)
}

// WriteAt is Write below the procfs directory open as dir (see OpenAt).
func WriteAt(dir *os.File, rel, val string) error {
	f, err := OpenAt(dir, rel, unix.O_WRONLY)
	if err != nil {
		return err
	}
	return write(f, val)
}

func write(f *os.File, val string) error {
	_, err := f.WriteString(val)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err
}

// Read reads up to 4 KiB of proc/rel (see Open) in one read(2), spaces
// trimmed.
func Read(proc, rel string) (string, error) {
	f, err := Open(proc, rel, unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(buf[:n])), nil
}
