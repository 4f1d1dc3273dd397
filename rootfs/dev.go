package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// devLinks are the symlinks a program expects in /dev (config-linux.md
// "Default Devices" for ptmx; the rest as every runtime makes them).
var devLinks = []struct{ name, target string }{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"}, // the devpts instance mounted at /dev/pts
}

// devSteps makes the minimal /dev: the device nodes and the links.
// /dev/console is bound later, on the new root, by ConsoleStep.
func (s *setup) devSteps() []step.Step {
	var steps []step.Step
	for _, d := range s.cfg.devices() {
		steps = append(steps, s.deviceStep(d))
	}
	for _, l := range devLinks {
		steps = append(steps, s.linkStep(l.name, l.target))
	}
	return steps
}

// devMode is the mknod(2) mode: the file type and the permission bits.
func devMode(d specs.LinuxDevice) uint32 {
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	switch d.Type {
	case "b":
		return unix.S_IFBLK | perm
	case "p":
		return unix.S_IFIFO | perm
	}
	return unix.S_IFCHR | perm
}

func (s *setup) deviceStep(d specs.LinuxDevice) step.Step {
	mode := devMode(d)
	rdev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	return step.Step{
		Op:   "mknod",
		Args: fmt.Sprintf("%q, %s|%#o, %d:%d", s.host(d.Path), fileType(mode), mode&0o7777, d.Major, d.Minor),
		Why:  whyDevice,
		Do:   func() error { return s.makeDevice(d, mode, rdev) },
	}
}

func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFBLK:
		return "S_IFBLK"
	case unix.S_IFIFO:
		return "S_IFIFO"
	}
	return "S_IFCHR"
}

// makeDevice creates one node with mknodat(2) in its directory, opened
// in-root. In a user namespace mknod of a device fails with EPERM; the
// host's node is then bound onto an empty file, as runc does.
func (s *setup) makeDevice(d specs.LinuxDevice, mode uint32, rdev uint64) error {
	p := path.Clean(d.Path)
	dir, err := s.mkdirAll(path.Dir(p))
	if err != nil {
		return err
	}
	defer dir.Close()
	dfd, name := int(dir.Fd()), path.Base(p)
	err = unix.Mknodat(dfd, name, mode, int(rdev))
	switch {
	case errors.Is(err, unix.EEXIST):
		return sameDevice(dfd, name, mode, rdev)
	case errors.Is(err, unix.EPERM) && mode&unix.S_IFMT != unix.S_IFIFO:
		return s.bindDevice(p, mode, rdev)
	case err != nil:
		return err
	}
	// From here on only the node we made is touched, through an fd: the
	// directory may be shared (a volume), and whoever can write it can
	// swap the name for a symlink to a host file between two calls by
	// path; a chmod by path would then follow it out of the rootfs.
	node, err := openNode(dfd, name, mode, rdev)
	if err != nil {
		return err
	}
	defer node.Close()
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	// chown first: it clears set-user-ID, which the chmod then sets
	// again if the config asks for it.
	if err := unix.Fchownat(int(node.Fd()), "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return errorf("chown %s: %w", p, err)
	}
	// mknod's mode went through the umask; set what the config says.
	// fchmod(2) refuses an O_PATH fd: chmod the magic link, which leads
	// to exactly that inode (/proc was checked to be a procfs).
	if err := unix.Chmod(fdPath(node), mode&0o7777); err != nil {
		return errorf("chmod %s: %w", p, err)
	}
	return nil
}

// openNode opens the node mknod just made, O_PATH|O_NOFOLLOW (a symlink
// put in its place is opened, not followed), and checks it is still a
// node of that type and device number: anything else means the name was
// swapped under us.
func openNode(dfd int, name string, mode uint32, rdev uint64) (*os.File, error) {
	fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errorf("open %s after mknod: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, errorf("fstat %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != mode&unix.S_IFMT || (mode&unix.S_IFMT != unix.S_IFIFO && st.Rdev != rdev) {
		f.Close()
		return nil, errorf("%s was replaced by something else right after mknod (mode %#o): refusing to touch it", name, st.Mode)
	}
	return f, nil
}

// sameDevice accepts an existing node only if it is the device wanted
// (a rootfs may ship its own /dev/null); anything else is an error.
func sameDevice(dfd int, name string, mode uint32, rdev uint64) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != mode&unix.S_IFMT || (mode&unix.S_IFMT != unix.S_IFIFO && st.Rdev != rdev) {
		return errorf("%s exists and is not that device", name)
	}
	return nil
}

// bindDevice binds the host's node at the same path, after checking it
// is the same device (the host path is trusted, the rootfs is not).
func (s *setup) bindDevice(p string, mode uint32, rdev uint64) error {
	// Opened once: the node checked is the node bound.
	src, err := os.OpenFile(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return errorf("mknod not allowed, and host %s: %w", p, err)
	}
	defer src.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return errorf("mknod not allowed, and host %s: fstat: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != mode&unix.S_IFMT || st.Rdev != rdev {
		return errorf("mknod not allowed, and host %s is another device", p)
	}
	return s.bindFrom(src, p, unix.MS_BIND)
}

// linkStep makes /dev/NAME -> TARGET; an existing entry is kept, except
// /dev/ptmx, which must lead to this container's devpts.
func (s *setup) linkStep(name, target string) step.Step {
	return step.Step{
		Op:   "symlink",
		Args: fmt.Sprintf("%q, %q", target, s.host("/dev/"+name)),
		Why:  whyDevLinks,
		Do: func() error {
			dir, err := s.mkdirAll("/dev")
			if err != nil {
				return err
			}
			defer dir.Close()
			dfd := int(dir.Fd())
			if name == "ptmx" {
				if err := unix.Unlinkat(dfd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
					return errorf("unlink /dev/ptmx: %w", err)
				}
			}
			if err := unix.Symlinkat(target, dfd, name); err != nil && !errors.Is(err, os.ErrExist) {
				return err
			}
			return nil
		},
	}
}
