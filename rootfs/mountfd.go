package rootfs

import (
	"errors"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/procfs"
)

// bindTree binds the mount tree at src (with its submounts if rec) onto
// target, both pinned fds: open_tree(2) OPEN_TREE_CLONE makes a detached
// copy, move_mount(2) attaches it. It returns a handle on the root of the
// new mount, so that what is done to the mount later (a read-only
// remount, a propagation change) is done to this mount, not to whatever
// the target's path leads to by then: a directory shared with the host
// can be renamed under the mount from the host's mount namespace, where
// the mount is not visible (issue 12 §1). On a kernel without the mount
// API (ENOSYS, Linux < 5.2) it falls back to mount(2) MS_BIND and
// returns a nil handle.
func bindTree(src, target *os.File, rec bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(int(src.Fd()), "", flags)
	if errors.Is(err, unix.ENOSYS) {
		ms := uintptr(unix.MS_BIND)
		if rec {
			ms |= unix.MS_REC
		}
		return nil, unix.Mount(fdPath(src), fdPath(target), "", ms, "")
	}
	if err != nil {
		return nil, errorf("open_tree %s: %w", src.Name(), err)
	}
	top := os.NewFile(uintptr(tree), src.Name())
	if err := unix.MoveMount(tree, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		top.Close()
		return nil, errorf("move_mount onto %s: %w", target.Name(), err)
	}
	return top, nil
}

// pin keeps top as the handle on the mount made at dest, for the steps
// that change that mount later (see mountAt). A nil top (the mount(2)
// fallback) forgets any earlier one: dest is then resolved again.
func (s *setup) pin(dest string, top *os.File) {
	if old := s.tops[dest]; old != nil {
		old.Close()
	}
	if s.tops == nil {
		s.tops = map[string]*os.File{}
	}
	s.tops[dest] = top
}

// unpin closes the handles pinned at dest and below it (a cgroup v1
// tmpfs and its hierarchies), once no later step needs them.
func (s *setup) unpin(dest string) {
	for k, f := range s.tops {
		if k == dest || strings.HasPrefix(k, strings.TrimSuffix(dest, "/")+"/") {
			if f != nil {
				f.Close()
			}
			delete(s.tops, k)
		}
	}
}

// mountAt returns a handle on the mount now at dest: the one a step of
// ours made there, pinned when it was made, or else (a mount not made by
// fd, an old kernel) dest resolved in-root again. The caller closes it.
func (s *setup) mountAt(dest string) (*os.File, error) {
	if top := s.tops[dest]; top != nil {
		fd, err := unix.FcntlInt(top.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, errorf("dup handle on %s: %w", dest, err)
		}
		return os.NewFile(uintptr(fd), top.Name()), nil
	}
	return s.open(dest)
}

// closeTops closes the pinned handles once no step needs them.
func (s *setup) closeTops() {
	for _, f := range s.tops {
		if f != nil {
			f.Close()
		}
	}
	s.tops = nil
}

// BindFile binds the file or directory open at src onto the one open at
// target, both pinned fds (open_tree(2) and move_mount(2), no path
// looked up again; mount(2) through /proc/thread-self/fd on kernels
// without them, after checking /proc is a procfs). For callers outside
// the rootfs steps, such as the console.
func BindFile(src, target *os.File) error {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	tree, err := unix.OpenTree(int(src.Fd()), "", flags)
	if errors.Is(err, unix.ENOSYS) {
		proc, perr := os.OpenFile("/proc/thread-self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if perr != nil {
			return perr
		}
		perr = procfs.Check(proc)
		proc.Close()
		if perr != nil {
			return perr
		}
		return unix.Mount(fdPath(src), fdPath(target), "", unix.MS_BIND, "")
	}
	if err != nil {
		return errorf("open_tree %s: %w", src.Name(), err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return errorf("move_mount onto %s: %w", target.Name(), err)
	}
	return nil
}

// mountAttrs maps the per-mount mount(2) flags to mount_setattr(2)'s
// MOUNT_ATTR_* (fsmount(2) takes those); ok is false if flags hold one
// that is not per-mount (MS_SYNCHRONOUS, MS_DIRSYNC, ...).
func mountAttrs(flags uintptr) (attrs uint64, ok bool) {
	for _, m := range []struct {
		ms   uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME},
		{unix.MS_RELATIME, unix.MOUNT_ATTR_RELATIME},
		{unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
	} {
		if flags&m.ms != 0 {
			attrs |= m.attr
			flags &^= m.ms
		}
	}
	return attrs, flags&^unix.MS_SILENT == 0
}

// newTmpfs makes a tmpfs as a detached mount: see newFs.
func newTmpfs(source string, data []string, attrs uint64) (*os.File, error) {
	return newFs("tmpfs", source, data, attrs)
}

// newFs makes a new instance of filesystem fstype with the options data
// ("key=value" or "flag") as a detached mount (fsopen(2), fsconfig(2),
// fsmount(2)) with the per-mount attributes attrs, and returns its fd:
// it can be filled before anyone sees it, attached with move_mount(2)
// after, and changed later through that fd. ENOSYS on Linux < 5.2.
func newFs(fstype, source string, data []string, attrs uint64) (*os.File, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "source", source); err != nil {
		return nil, errorf("fsconfig source=%s: %w", source, err)
	}
	for _, o := range data {
		if o == "" {
			continue
		}
		k, v, hasValue := strings.Cut(o, "=")
		if hasValue {
			err = unix.FsconfigSetString(fsfd, k, v)
		} else {
			err = unix.FsconfigSetFlag(fsfd, k)
		}
		if err != nil {
			return nil, errorf("%s option %q: %w", fstype, o, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, errorf("fsconfig create %s: %w", fstype, err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, int(attrs))
	if err != nil {
		return nil, errorf("fsmount %s: %w", fstype, err)
	}
	return os.NewFile(uintptr(mfd), fstype), nil
}

// attach moves the detached mount top onto target (move_mount(2), fd to
// fd) and pins it as the mount at dest; top is closed on failure.
func (s *setup) attach(top, target *os.File, dest string) error {
	if err := unix.MoveMount(int(top.Fd()), "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		top.Close()
		return errorf("move_mount %s onto %s: %w", top.Name(), dest, err)
	}
	s.pin(dest, top)
	return nil
}

// mkdirUnder makes dir sub below the mount a step of ours made at dest,
// resolved inside that pinned mount (not through dest's path again), or
// in-root below dest when nothing is pinned there.
func (s *setup) mkdirUnder(dest, sub string) (*os.File, error) {
	top := s.tops[dest]
	if top == nil {
		return s.mkdirAll(path.Join(dest, sub))
	}
	f, err := s.mkdirAllIn(top, sub)
	if err != nil {
		return nil, errorf("mkdir %s in %s: %w", sub, dest, err)
	}
	return f, nil
}
