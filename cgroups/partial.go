package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// partial lists the group's directories that exist when some do not (nil
// when all or none exist): a create killed while it made the cgroup. The
// library wants every hierarchy's directory (v1 lists the processes in
// the devices one), so such a group is killed and removed by hand.
func (m *Manager) partial() []string {
	var there []string
	for _, d := range m.dirs {
		if _, err := os.Stat(d); err == nil {
			there = append(there, d)
		}
	}
	if len(there) == len(m.dirs) {
		return nil
	}
	return there
}

// removeCgroupDirs kills the processes in each directory, as DeleteSteps
// does, and removes it (rmdir(2); on v1 it may be refused with EBUSY for
// a moment after the last process left).
func removeCgroupDirs(dirs []string) error {
	procs := func() []int {
		var pids []int
		for _, d := range dirs {
			data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					pids = append(pids, pid)
				}
			}
		}
		return pids
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pids := procs()
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return errorf("cgroup: processes %v still there after SIGKILL", pids)
		}
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	for _, d := range dirs {
		var err error
		for try := 0; try < 50; try++ {
			if err = unix.Rmdir(d); err == nil || errors.Is(err, unix.ENOENT) {
				err = nil
				break
			}
			if !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			return errorf("rmdir %s: %w", d, err)
		}
	}
	return nil
}
