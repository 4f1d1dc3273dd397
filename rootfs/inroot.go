package rootfs

import (
	"errors"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// fdPath names a pinned file for mount(2): the magic link
// /proc/thread-self/fd/N leads to exactly the inode the fd holds, so a
// symlink swapped into the path after we checked it changes nothing
// (runc CVE-2021-30465). Only valid while /proc is the host's real procfs,
// which the first step checks.
func fdPath(f *os.File) string {
	return "/proc/thread-self/fd/" + strconv.Itoa(int(f.Fd()))
}

// open resolves p inside the rootfs and returns an O_PATH handle. Every
// ".." and symlink is resolved as if the rootfs were "/", so nothing in
// the rootfs can point us outside it: one openat2(2) RESOLVE_IN_ROOT, or
// pathrs-lite's emulation on kernels without it (Linux < 5.6).
func (s *setup) open(p string) (*os.File, error) {
	fd, err := openInRoot(s.root, p, unix.O_PATH)
	if errors.Is(err, errNoOpenat2) {
		f, err := pathrs.OpenatInRoot(s.root, p)
		if err != nil {
			return nil, errorf("open %s in rootfs: %w", p, err)
		}
		return s.checked(f)
	}
	if err != nil {
		return nil, errorf("open %s in rootfs: %w", p, err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// mkdirAll creates p and its parents inside the rootfs, by fd, one
// component at a time, never following a symlink out (CVE-2024-45310).
func (s *setup) mkdirAll(p string) (*os.File, error) {
	f, err := s.mkdirAllIn(s.root, p)
	if err != nil {
		return nil, errorf("mkdir %s in rootfs: %w", p, err)
	}
	return f, nil
}

// errNoOpenat2 stands for a kernel without openat2(2) (ENOSYS, Linux <
// 5.6): the callers then use pathrs-lite's emulation.
var errNoOpenat2 = errors.New("openat2 not supported")

// noOpenat2 is set once openat2(2) gave ENOSYS.
var noOpenat2 atomic.Bool

// openInRoot is openat2(2) of p below root with RESOLVE_IN_ROOT (".." and
// absolute symlinks stop at root) and RESOLVE_NO_MAGICLINKS (no
// /proc/PID/fd-style jump out): the kernel resolves the whole path in one
// call and fails it (EXDEV, EAGAIN) rather than leave root. flags are
// open(2) flags; O_CLOEXEC is added.
func openInRoot(root *os.File, p string, flags int) (int, error) {
	if noOpenat2.Load() {
		return -1, errNoOpenat2
	}
	fd, err := unix.Openat2(int(root.Fd()), p, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) {
		noOpenat2.Store(true)
		return -1, errNoOpenat2
	}
	return fd, err
}

// mkdirAllIn makes directory p and its missing parents below root and
// returns an O_PATH handle on it. The part that exists is resolved
// in-root in one openat2(2) (found from the end: most targets exist, or
// lack only their last components); each missing component is made with
// mkdirat(2) in its parent's fd (mkdir never follows a symlink in the
// last component) and opened with O_NOFOLLOW and RESOLVE_NO_SYMLINKS, so
// a symlink raced into its place fails the open instead of being
// followed. As pathrs-lite's MkdirAllHandle: a dangling symlink on the
// way is an error, not a directory made wherever it points, and ".." is
// refused in the part still to make. Without openat2 it is
// pathrs-lite's MkdirAllHandle (a component at a time, checked through
// /proc) and the result's path is checked (s.checked).
func (s *setup) mkdirAllIn(root *os.File, p string) (*os.File, error) {
	fd, err := openInRoot(root, p, unix.O_PATH|unix.O_DIRECTORY)
	if errors.Is(err, errNoOpenat2) {
		f, err := pathrs.MkdirAllHandle(root, p, 0o755)
		if err != nil {
			return nil, err
		}
		return s.checked(f)
	}
	if err == nil {
		return os.NewFile(uintptr(fd), p), nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return nil, err
	}
	// The deepest ancestor that exists (root itself at worst).
	dir, rest := int(root.Fd()), strings.TrimLeft(p, "/")
	for end := len(p); ; {
		i := strings.LastIndexByte(p[:end], '/')
		if i <= 0 {
			break
		}
		fd, err := openInRoot(root, p[:i], unix.O_PATH|unix.O_DIRECTORY)
		if err == nil {
			dir, rest = fd, p[i+1:]
			defer func() { unix.Close(fd) }()
			break
		}
		if !errors.Is(err, unix.ENOENT) {
			return nil, err
		}
		end = i
	}
	var made *os.File
	for _, part := range strings.Split(rest, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			return nil, errorf("%w: %q: '..' in the part to make", unix.ENOENT, p)
		}
		// EEXIST: made meanwhile, or not a directory (the open fails).
		if err := unix.Mkdirat(dir, part, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, errorf("mkdirat %s: %w", part, err)
		}
		fd, err := unix.Openat2(dir, part, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV,
		})
		if err != nil {
			return nil, errorf("open %s after mkdirat: %w", part, err)
		}
		if made != nil {
			made.Close()
		}
		made = os.NewFile(uintptr(fd), p)
		dir = fd
	}
	if made == nil {
		// Only "." left: p was found missing, then was there.
		return nil, errorf("%q: %w", p, unix.ENOENT)
	}
	return made, nil
}

// createFile makes an empty file at p (a bind mount of a file needs a
// file to land on) and returns a handle to it.
func (s *setup) createFile(p string) (*os.File, error) {
	p = path.Clean(p)
	dir, err := s.mkdirAll(path.Dir(p))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	// O_NOFOLLOW|O_EXCL: never create through a symlink; an existing
	// entry is opened in-root below and its type checked by the caller.
	// The file made is used through the fd that made it, never found
	// again by name (which the host side of a shared directory could
	// have swapped meanwhile).
	fd, err := unix.Openat(int(dir.Fd()), path.Base(p), unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_RDONLY, 0o644)
	if err == nil {
		f := os.NewFile(uintptr(fd), p)
		if noOpenat2.Load() {
			return s.checked(f) // dir came from pathrs-lite's emulation
		}
		return f, nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return nil, errorf("create %s in rootfs: %w", p, err)
	}
	return s.open(p)
}

// checked verifies, through the kernel's own name for the fd, that a
// handle pathrs-lite's emulation opened is inside the rootfs: a second
// line of defence where the kernel has no openat2(2) RESOLVE_IN_ROOT. It
// closes f on failure.
func (s *setup) checked(f *os.File) (*os.File, error) {
	got, err := os.Readlink(fdPath(f))
	if err != nil {
		f.Close()
		return nil, errorf("readlink %s: %w", fdPath(f), err)
	}
	if s.rootReal != "/" && got != s.rootReal && !strings.HasPrefix(got, s.rootReal+"/") {
		f.Close()
		return nil, errorf("%s resolved to %s, outside the rootfs %s", f.Name(), got, s.rootReal)
	}
	return f, nil
}

// isDir reports whether the handle is a directory (fstat(2) on the fd,
// not on a path).
func isDir(f *os.File) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false, errorf("fstat %s: %w", f.Name(), err)
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// keptFlags are the per-mount flags a bind remount must repeat: a remount
// sets all of them at once, and in a user namespace the kernel refuses to
// clear nosuid/nodev/noexec/atime flags it locked (mount(2) EPERM). They
// are read with statfs(2) from the mount as it is.
func keptFlags(f *os.File) (uintptr, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return 0, errorf("fstatfs %s: %w", f.Name(), err)
	}
	var fl uintptr
	for _, m := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if int64(st.Flags)&m.st != 0 {
			fl |= m.ms
		}
	}
	return fl, nil
}

const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// remountFlags merges what the options ask with what the mount has.
func remountFlags(want, clear, have uintptr) uintptr {
	if want&atimeFlags != 0 {
		have &^= atimeFlags
	}
	return (want | have) &^ clear
}
