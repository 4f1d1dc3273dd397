package container

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// processStart reads starttime (field 22) and the state letter (field 3)
// of /proc/PID/stat. The comm field (2) may hold spaces and parentheses,
// so parse from the last ')'.
func processStart(pid int) (start uint64, state byte, err error) {
	// One open, read and close (os.ReadFile adds an fstat and the
	// poller's fcntl and epoll_ctl calls): list does this per container.
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var buf [1024]byte // comm is at most 64 bytes: the line fits
	n, err := readFull(fd, buf[:])
	unix.Close(fd)
	if err != nil {
		return 0, 0, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	data := buf[:n]
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0, 0, errorf("malformed /proc/%d/stat", pid)
	}
	f := bytes.Fields(data[i+2:])
	// f[0] is field 3 (state); starttime is field 22, i.e. f[19].
	if len(f) < 20 {
		return 0, 0, errorf("malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, 0, errorf("malformed /proc/%d/stat: %w", pid, err)
	}
	return start, f[0][0], nil
}

// InitAlive reports whether the state's init process still runs: its PID
// exists, is not a zombie, and started when ours did (not a recycled PID).
func (s *State) InitAlive() bool { return s.initAlive(nil) }

// Status derives the OCI status (runtime.md "State") from the kernel and
// the state directory, never from a stored field that could go stale.
// frozen, if non-nil, tells whether the container's cgroup is frozen.
func (s *State) Status(dir string, frozen func() bool) specs.ContainerState {
	return s.status(nil, dir, frozen, nil)
}

// status is Status with each kernel read a step of run, explained under
// --explain (nil: none); freezer, if set, names the file frozen reads.
func (s *State) status(run *step.Runner, dir string, frozen func() bool, freezer func() string) specs.ContainerState {
	if s.Pid == 0 {
		return specs.StateCreating
	}
	if !s.initAlive(run) {
		return specs.StateStopped
	}
	if s.Creating {
		return specs.StateCreating
	}
	fifo := filepath.Join(dir, execFifo)
	var ferr error
	run.RunOne(step.Step{Op: "lstat", Args: fifo,
		Why: "create makes the exec FIFO, start's open of it removes it: there, the container is created, not started",
		Do:  func() error { _, ferr = os.Lstat(fifo); return nil },
		ReadBack: func() (string, error) {
			if ferr == nil {
				return "there: created", nil
			}
			return "absent: started", nil
		}})
	if ferr == nil {
		return specs.StateCreated
	}
	if frozen == nil {
		return specs.StateRunning
	}
	file := ""
	if freezer != nil {
		file = freezer()
	}
	var isFrozen bool
	run.RunOne(step.Step{Op: "read", Args: file,
		Why: "the cgroup freezer: a frozen group is a paused container",
		Do:  func() error { isFrozen = frozen(); return nil },
		ReadBack: func() (string, error) {
			if isFrozen {
				return "frozen: paused", nil
			}
			return "not frozen: running", nil
		}})
	if isFrozen {
		return statusPaused
	}
	return specs.StateRunning
}

// initAlive is InitAlive as a step of run: one read of /proc/PID/stat.
func (s *State) initAlive(run *step.Runner) bool {
	if s.Pid <= 0 {
		return false
	}
	var start uint64
	var st byte
	var err error
	alive := func() bool { return err == nil && st != 'Z' && st != 'X' && start == s.PidStart }
	run.RunOne(step.Step{Op: "read", Args: "/proc/" + strconv.Itoa(s.Pid) + "/stat",
		Why: "the init's state letter and start time: alive, not a zombie, and not another process on a reused pid (it started when the recorded one did)",
		Do:  func() error { start, st, err = processStart(s.Pid); return nil },
		ReadBack: func() (string, error) {
			if err != nil {
				return fmt.Sprintf("%v: stopped", err), nil
			}
			verdict := "stopped"
			if alive() {
				verdict = "alive"
			}
			return fmt.Sprintf("state %c, starttime %d (recorded %d): %s", st, start, s.PidStart, verdict), nil
		}})
	return alive()
}

// statusPaused is runc's status of a frozen container (runtime.md
// leaves other statuses to the runtime).
const statusPaused specs.ContainerState = "paused"

// signalInit sends sig to the init process if it is still ours.
func (s *State) signalInit(sig unix.Signal) error {
	if !s.InitAlive() {
		return errors.New("container not running")
	}
	if err := unix.Kill(s.Pid, sig); err != nil {
		return errorf("kill pid %d: %w", s.Pid, err)
	}
	return nil
}
