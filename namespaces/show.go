package namespaces

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Info is one namespace a process is in.
type Info struct {
	Kind Kind `json:"-"`
	// Name is Kind's /proc name ("net"), for JSON.
	Name string `json:"kind"`
	// Inode identifies the namespace: two processes are in the same
	// namespace exactly when their /proc/PID/ns/<kind> files have the same
	// inode (and device) number. readlink shows it too: "net:[4026531840]".
	Inode uint64 `json:"inode"`
	// Link is what readlink(2) returns for the file.
	Link string `json:"link"`
	// Shared is true when process Reference is in the same namespace:
	// the process is not isolated from it in this kind.
	Shared bool `json:"shared"`
	// Reference is the process compared with: PID 1 (of the reader's PID
	// namespace), or the reader itself when PID 1's namespace files may
	// not be read (the ptrace access check of proc(5), for example when
	// PID 1 holds a capability the reader lacks).
	Reference int `json:"compared_with_pid"`
}

// Show lists the namespaces of process pid, in join order, each compared
// with PID 1's. A kind the kernel does not have is left out.
func Show(pid int) ([]Info, error) {
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return nil, errorf("process %d: %w", pid, err)
	}
	ref := 1
	if _, _, err := nsID(User.ProcPath(1)); errors.Is(err, fs.ErrPermission) {
		ref = os.Getpid()
	}
	var out []Info
	for _, k := range Kinds() {
		ino, dev, err := nsID(k.ProcPath(pid))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		link, err := os.Readlink(k.ProcPath(pid))
		if err != nil {
			return nil, err
		}
		rino, rdev, err := nsID(k.ProcPath(ref))
		if err != nil {
			return nil, err
		}
		out = append(out, Info{Kind: k, Name: k.String(), Inode: ino, Link: link,
			Shared: ino == rino && dev == rdev, Reference: ref})
	}
	return out, nil
}

// nsID stats a namespace file: stat(2) follows the magic link to the
// namespace's inode on the nsfs pseudo-filesystem.
func nsID(path string) (ino, dev uint64, err error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return st.Ino, uint64(st.Dev), nil
}

// Inode returns the inode number of the namespace a namespace file (such
// as /proc/PID/ns/net or a bind mount of it) refers to.
func Inode(path string) (uint64, error) {
	ino, _, err := nsID(path)
	return ino, err
}
