package cgroups

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// Join holds what a process needs to join the group itself, opened
// before it is forked (namespaces.Config's CgroupFD, CgroupTasks and
// CgroupProcs): nobody moves it from outside.
type Join struct {
	// Dir is the cgroup2 directory (O_PATH) for clone3(2)
	// CLONE_INTO_CGROUP; nil on a host without cgroup2 in use.
	Dir *os.File
	// Procs is Dir's cgroup.procs, for when clone3 falls back to fork.
	Procs *os.File
	// Tasks are the "tasks" files of the v1 hierarchies, one per
	// directory: a thread writing "0" there moves itself without the
	// cgroup_threadgroup_rwsem write lock (cgroup_procs_write_start),
	// so without waiting for an RCU grace period.
	Tasks []*os.File
}

// Close closes every file of j.
func (j *Join) Close() {
	for _, f := range append([]*os.File{j.Dir, j.Procs}, j.Tasks...) {
		if f != nil {
			f.Close()
		}
	}
	*j = Join{}
}

// OpenJoinStep opens into j the files a child writes "0" to, to join the
// group itself: on v1 each hierarchy's "tasks" file, on cgroup2 (v2, or
// the hybrid host's unified hierarchy) the directory for clone3 and its
// cgroup.procs. A rootless group made in no hierarchy needs none. On
// failure j holds nothing open.
func (m *Manager) OpenJoinStep(j *Join) step.Step {
	return step.Step{
		Op:   "open",
		Args: "O_WRONLY: tasks (v1), cgroup.procs and O_PATH the directory (cgroup2) in " + m.dirList(),
		Why:  "the child joins its own cgroup: it writes 0 to these itself, before anything else runs",
		Do: func() error {
			if m.rootless && len(m.dirs) == 0 {
				return nil // no hierarchy it may make: no group to join
			}
			err := m.openJoin(j)
			if err != nil {
				j.Close()
				if errors.Is(err, os.ErrNotExist) && !m.Exists() {
					return errorf("cgroup %s does not exist", m.path)
				}
			}
			return err
		},
	}
}

func (m *Manager) openJoin(j *Join) error {
	open := func(name string, flags int) (*os.File, error) {
		fd, err := unix.Open(name, flags|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
	var err error
	seen := map[string]bool{}
	for _, ctrl := range slices.Sorted(maps.Keys(m.dirs)) {
		d := m.dirs[ctrl]
		if seen[d] {
			continue // cpu and cpuacct in one hierarchy
		}
		seen[d] = true
		if ctrl == "" {
			if j.Dir, err = open(d, unix.O_PATH|unix.O_DIRECTORY); err != nil {
				return err
			}
			if j.Procs, err = open(filepath.Join(d, "cgroup.procs"), unix.O_WRONLY); err != nil {
				return err
			}
			continue
		}
		f, err := open(filepath.Join(d, "tasks"), unix.O_WRONLY)
		if err != nil {
			return err
		}
		j.Tasks = append(j.Tasks, f)
	}
	return nil
}
