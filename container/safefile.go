package container

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Files ctr-lite writes on a path its caller gives (--pid-file, --log,
// --console-socket, --root) may sit in a directory another user can
// write. Such a user must not be able to redirect root's write to a file
// of their choice by planting a symlink (or a file) at a name ctr-lite
// will use. So: every temporary name is unpredictable and created with
// O_EXCL|O_NOFOLLOW; every file is reached from one opened directory
// (openat, renameat on the fd: the directory cannot be swapped between
// two steps); and a symlink as the last component is followed only when
// the kernel's fs.protected_symlinks would follow it, whatever that
// sysctl says (it is off on many hosts).

// openDir opens the directory of path for *at calls: the caller's own
// path, resolved as given (symlinks in it are the caller's choice).
func openDir(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}

// tmpName is an unpredictable name for a temporary file next to name:
// 64 random bits from getrandom(2).
func tmpName(name string) (string, error) {
	var b [8]byte
	if _, err := unix.Getrandom(b[:], 0); err != nil {
		return "", errorf("getrandom: %w", err)
	}
	return "." + name + "." + hex.EncodeToString(b[:]) + ".tmp", nil
}

// writeFileAtomic writes path through a temporary file in the same
// directory and rename(2): a reader sees the old or the new file whole.
// The temporary file has a random name and is made with
// O_CREAT|O_EXCL|O_NOFOLLOW, so nothing planted there is followed or
// truncated; renameat replaces path itself (a symlink there is replaced,
// not followed).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if name == "" || name == "." || name == ".." {
		return errorf("%s: not a file name", path)
	}
	dfd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return writeFileAt(dfd, name, data, perm)
}

// writeFileAt is writeFileAtomic in the directory dfd.
func writeFileAt(dfd int, name string, data []byte, perm os.FileMode) error {
	var tmp string
	var fd int
	for try := 0; ; try++ {
		var err error
		if tmp, err = tmpName(name); err != nil {
			return err
		}
		fd, err = unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EEXIST) || try == 3 {
			return &fs.PathError{Op: "create", Path: tmp, Err: err}
		}
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err := f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = unix.Renameat(dfd, tmp, dfd, name); err != nil {
			err = &fs.PathError{Op: "rename", Path: name, Err: err}
		}
	}
	if err != nil {
		unix.Unlinkat(dfd, tmp, 0)
	}
	return err
}

// openNoPlanted opens path with flags (plus O_NOFOLLOW|O_CLOEXEC) and,
// if its last component is a symlink, follows it only if
// fs.protected_symlinks would: the directory is not writable by others,
// or the link belongs to us or to the directory's owner. Anyone else's
// link in a shared directory (a sticky /tmp, a group-writable run
// directory) may point anywhere: it is refused.
func openNoPlanted(path string, flags int, perm uint32) (int, error) {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if name == "" {
		// "dir/": a directory, no last component to plant.
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, perm)
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
	dfd, err := openDir(dir)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err == nil && flags&unix.O_PATH != 0 {
		// O_PATH|O_NOFOLLOW opens a symlink itself rather than failing.
		var st unix.Stat_t
		if err = unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
			unix.Close(fd)
			if err == nil {
				err = unix.ELOOP
			}
		}
	}
	if err == nil {
		return fd, nil
	}
	// A symlink fails with ELOOP, or ENOTDIR with O_DIRECTORY, or EACCES
	// with O_CREAT in a sticky directory: look at what is there.
	var lst unix.Stat_t
	if lerr := unix.Fstatat(dfd, name, &lst, unix.AT_SYMLINK_NOFOLLOW); lerr != nil || lst.Mode&unix.S_IFMT != unix.S_IFLNK {
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if err := checkLink(dfd, path, name); err != nil {
		return -1, err
	}
	fd, err = unix.Openat(dfd, name, flags|unix.O_CLOEXEC, perm)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// checkLink refuses the symlink name in dfd when someone other than us
// (or root) could have planted it, or could swap it for another once
// checked: the directory must be ours (or root's) and either writable by
// no one else, or sticky with the link ours (or root's), which only its
// owner and the directory's may then replace. This is the rule of
// fs.protected_symlinks (proc_sys_fs(5)), applied whatever the sysctl
// says and to every directory another user can write, sticky or not.
func checkLink(dfd int, path, name string) error {
	var dst, lst unix.Stat_t
	if err := unix.Fstat(dfd, &dst); err != nil {
		return &fs.PathError{Op: "fstat", Path: filepath.Dir(path), Err: err}
	}
	if err := unix.Fstatat(dfd, name, &lst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	if lst.Mode&unix.S_IFMT != unix.S_IFLNK {
		return nil // replaced by a plain file meanwhile: nothing to follow
	}
	euid := uint32(os.Geteuid())
	trusted := func(uid uint32) bool { return uid == euid || uid == 0 }
	if trusted(dst.Uid) && (dst.Mode&0o022 == 0 || (dst.Mode&unix.S_ISVTX != 0 && trusted(lst.Uid))) {
		return nil
	}
	return errorf("%s: refusing to follow a symlink (owner uid %d) in %s, a directory other users can write (owner uid %d, mode %#o)",
		path, lst.Uid, filepath.Dir(path), dst.Uid, dst.Mode&0o7777)
}

// OpenLogFile opens --log for appending, creating it 0644, as runc does
// (O_CREAT|O_APPEND|O_SYNC), without following a symlink planted by
// another user (see openNoPlanted): /dev/stderr and a link of our own
// still work.
func OpenLogFile(path string) (*os.File, error) {
	fd, err := openNoPlanted(path, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_SYNC, 0o644)
	if err != nil {
		return nil, errorf("open log file: %w", err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
