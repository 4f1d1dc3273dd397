package process

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// openProcFile opens rel below the procfs mounted at proc, refusing
// anything that is not the real thing. A container image (or a racing
// mount) can put a tmpfs or symlinks at /proc so that a write meant for
// the kernel lands in a plain file, or a different one (CVE-2019-16884,
// where runc wrote the AppArmor label into a fake /proc): so check that
// proc is a procfs (statfs f_type == PROC_SUPER_MAGIC), resolve rel with
// openat2(2) RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, and check the file
// opened is on a procfs too.
func openProcFile(proc, rel string, flags int) (*os.File, error) {
	dir, err := unix.Open(proc, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", proc, err)
	}
	defer unix.Close(dir)
	if err := isProcfs(dir, proc); err != nil {
		return nil, err
	}
	how := &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(dir, rel, how)
	if errors.Is(err, unix.ENOSYS) {
		fd, err = openNoFollow(dir, rel, flags) // kernel before 5.6
	}
	if err != nil {
		return nil, fmt.Errorf("open %s/%s: %w", proc, rel, err)
	}
	name := proc + "/" + rel
	if err := isProcfs(fd, name); err != nil {
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
			return -1, fmt.Errorf("component %q: %w", p, unix.EINVAL)
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

func isProcfs(fd int, name string) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", name, err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s is not on a procfs (f_type %#x, want PROC_SUPER_MAGIC %#x): refusing to write through it",
			name, st.Type, unix.PROC_SUPER_MAGIC)
	}
	return nil
}

// writeProcFile writes val in one write(2): procfs files act on each write.
func writeProcFile(proc, rel, val string) error {
	f, err := openProcFile(proc, rel, unix.O_WRONLY)
	if err != nil {
		return err
	}
	_, err = f.WriteString(val)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the step's Op names the file already
	}
	return err
}

func readProcFile(proc, rel string) (string, error) {
	f, err := openProcFile(proc, rel, unix.O_RDONLY)
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
