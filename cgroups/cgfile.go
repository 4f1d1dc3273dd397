package cgroups

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// testMode lets the differential tests run the writers on plain
// directories: a write creates and truncates the file (O_CREAT|O_TRUNC)
// and the cgroupfs check is skipped, as opencontainers/cgroups does in
// its TestMode, so that both write the same files.
var testMode bool

// errNotCgroupfs: the file opened is not on a cgroup filesystem.
var errNotCgroupfs = errors.New("not a cgroup file")

// openFile opens dir/file, which must be a cgroup (v1 or v2) file: a
// path that leads elsewhere (a bind mount or symlink over the
// hierarchy) is refused, so a limit is never written to some other
// file (fstatfs(2) f_type CGROUP_SUPER_MAGIC or CGROUP2_SUPER_MAGIC).
func openFile(dir, file string, flags int) (*os.File, error) {
	if dir == "" {
		return nil, errorf("no directory for %s", file)
	}
	path := filepath.Join(dir, filepath.Clean("/"+file))
	mode := os.FileMode(0)
	if testMode && flags&os.O_WRONLY != 0 {
		flags |= os.O_CREATE | os.O_TRUNC
		mode = 0o600
	}
	// open(2) and os.NewFile, not os.OpenFile: a cgroup file is
	// pollable, and os.OpenFile would set up the runtime's netpoller
	// (epoll_create1, eventfd2) and add and remove each file (five more
	// syscalls a file) for reads and writes that never block.
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, flags|unix.O_CLOEXEC, uint32(mode))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if testMode {
		return f, nil
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "fstatfs", Path: path, Err: err}
	}
	if st.Type != unix.CGROUP_SUPER_MAGIC && st.Type != unix.CGROUP2_SUPER_MAGIC {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: errNotCgroupfs}
	}
	return f, nil
}

// writeFile writes data to dir/file in one write(2): the kernel parses
// each write of a cgroup file as one value.
func writeFile(dir, file, data string) error {
	f, err := openFile(dir, file, os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		return errorf("write %q to %s: %w", data, f.Name(), err)
	}
	return nil
}

// writeLines writes data one line per write(2) (files such as io.max
// take one entry per write).
func writeLines(dir, file, data string) error {
	if !strings.Contains(data, "\n") {
		return writeFile(dir, file, data)
	}
	f, err := openFile(dir, file, os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	for rest := data; rest != ""; {
		line, tail, found := strings.Cut(rest, "\n")
		if found {
			line += "\n"
		}
		if _, err := f.WriteString(line); err != nil {
			return errorf("write %q to %s: %w", line, f.Name(), err)
		}
		rest = tail
	}
	return nil
}

// readFile reads dir/file whole.
func readFile(dir, file string) (string, error) {
	f, err := openFile(dir, file, os.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(f)
	return b.String(), err
}

// parseError names the file a value could not be read from.
type parseError struct {
	path string
	err  error
}

func (e *parseError) Error() string { return "unable to parse " + e.path + ": " + e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

func parseErr(dir, file string, err error) error {
	return &parseError{path: filepath.Join(dir, file), err: err}
}

// parseUint reads a counter; a negative value (some kernels report -1
// for "none") reads as 0.
func parseUint(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		iv, ierr := strconv.ParseInt(s, 10, 64)
		if (ierr == nil || errors.Is(ierr, strconv.ErrRange)) && iv < 0 {
			return 0, nil
		}
		return v, err
	}
	return v, nil
}

// readUint reads a one-number file; "max" is the largest value.
func readUint(dir, file string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := parseUint(s)
	if err != nil {
		return v, parseErr(dir, file, err)
	}
	return v, nil
}

// readKey reads "key N" from a flat-keyed file (memory.events); 0 when
// the key is absent.
func readKey(dir, file, key string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, err := parseUint(v)
			if err != nil {
				return n, parseErr(dir, file, err)
			}
			return n, nil
		}
	}
	return 0, nil
}

// keyValue splits a "key N" line.
func keyValue(line string) (string, uint64, error) {
	k, v, ok := strings.Cut(line, " ")
	if !ok || k == "" || v == "" {
		return "", 0, errorf("line %q is not in \"key value\" format", line)
	}
	n, err := parseUint(v)
	return k, n, err
}

func pathExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
