package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

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
// the rootfs can point us outside it (openat2(2) RESOLVE_IN_ROOT, or
// pathrs-lite's emulation on older kernels).
func (s *setup) open(p string) (*os.File, error) {
	f, err := pathrs.OpenatInRoot(s.root, p)
	if err != nil {
		return nil, fmt.Errorf("open %s in rootfs: %w", p, err)
	}
	return s.checked(f)
}

// mkdirAll creates p and its parents inside the rootfs, by fd, one
// component at a time, never following a symlink out (CVE-2024-45310).
func (s *setup) mkdirAll(p string) (*os.File, error) {
	f, err := pathrs.MkdirAllHandle(s.root, p, 0o755)
	if err != nil {
		return nil, fmt.Errorf("mkdir %s in rootfs: %w", p, err)
	}
	return s.checked(f)
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
		return s.checked(os.NewFile(uintptr(fd), p))
	}
	if !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create %s in rootfs: %w", p, err)
	}
	return s.open(p)
}

// checked verifies, through the kernel's own name for the fd, that a
// handle is inside the rootfs: a second line of defence behind in-root
// resolution. It closes f on failure.
func (s *setup) checked(f *os.File) (*os.File, error) {
	got, err := os.Readlink(fdPath(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("readlink %s: %w", fdPath(f), err)
	}
	if s.rootReal != "/" && got != s.rootReal && !strings.HasPrefix(got, s.rootReal+"/") {
		f.Close()
		return nil, fmt.Errorf("%s resolved to %s, outside the rootfs %s", f.Name(), got, s.rootReal)
	}
	return f, nil
}

// isDir reports whether the handle is a directory (fstat(2) on the fd,
// not on a path).
func isDir(f *os.File) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false, fmt.Errorf("fstat %s: %w", f.Name(), err)
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
		return 0, fmt.Errorf("fstatfs %s: %w", f.Name(), err)
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
