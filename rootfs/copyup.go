package rootfs

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyTree copies the entries of directory src into directory dst, both
// open handles: regular files, directories, symlinks and device nodes,
// with owner, mode and times. Every lookup is one *at(2) call relative to
// a handle with O_NOFOLLOW, so a symlink in the tree is copied, never
// followed.
func copyTree(src, dst *os.File) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return errorf("read %s: %w", src.Name(), err)
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(src, dst *os.File, name string) error {
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errorf("stat %s: %w", name, err)
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return errorf("mkdir %s: %w", name, err)
		}
		from, err := openAt(sfd, name, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer from.Close()
		to, err := openAt(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer to.Close()
		if err := copyTree(from, to); err != nil {
			return err
		}
	case unix.S_IFREG:
		// O_NONBLOCK, then the type checked on the fd: a FIFO put in
		// the file's place after the fstatat would block the open.
		from, err := openAt(sfd, name, unix.O_RDONLY|unix.O_NONBLOCK)
		if err != nil {
			return err
		}
		defer from.Close()
		var now unix.Stat_t
		if err := unix.Fstat(int(from.Fd()), &now); err != nil {
			return errorf("fstat %s: %w", name, err)
		}
		if now.Mode&unix.S_IFMT != unix.S_IFREG {
			return errorf("copy %s: no longer a regular file", name)
		}
		to, err := openAt(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL)
		if err != nil {
			return err
		}
		_, err = io.Copy(to, from)
		if cerr := to.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return errorf("copy %s: %w", name, err)
		}
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(sfd, name, buf)
		if err != nil {
			return errorf("readlink %s: %w", name, err)
		}
		if err := unix.Symlinkat(string(buf[:n]), dfd, name); err != nil {
			return errorf("symlink %s: %w", name, err)
		}
	default: // device nodes, FIFOs, sockets
		if err := unix.Mknodat(dfd, name, st.Mode, int(st.Rdev)); err != nil {
			return errorf("mknod %s: %w", name, err)
		}
	}
	if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errorf("chown %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		// After chown, which clears set-user-ID and set-group-ID.
		if err := unix.Fchmodat(dfd, name, perm, 0); err != nil {
			return errorf("chmod %s: %w", name, err)
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(dfd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errorf("set times of %s: %w", name, err)
	}
	return nil
}

func openAt(dirfd int, name string, flags int) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, errorf("open %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}
