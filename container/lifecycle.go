package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/step"
)

// Start lets a created container's process run (runtime.md "start"): it
// opens the exec FIFO for reading, which releases the init's open for
// writing; the init runs the startContainer hooks and execs the program.
// Start returns once the program runs (the init's write end of the FIFO
// is close-on-exec, so EOF comes with a successful execve), as runc
// does, so a signal sent after Start reaches the program. If a hook or
// execve fails, the init writes why into the FIFO and exits: Start
// returns that error and the container is stopped. Then the poststart
// hooks.
func (r Root) Start(id string) error {
	h, err := r.Open(id)
	if err != nil {
		return err
	}
	defer h.Close()
	st := &h.State
	switch status := st.Status(h.Dir, nil); status {
	case specs.StateCreated:
	case specs.StateStopped:
		return errors.New("cannot start a container that has stopped")
	default:
		return fmt.Errorf("cannot start a container in state %q", status)
	}
	if err := releaseInit(h); err != nil {
		return err
	}
	if st.Config.Hooks != nil {
		r.runHooksWarn("poststart", st.Config.Hooks.Poststart, ociState(st, specs.StateRunning))
	}
	return nil
}

// releaseInit opens the FIFO without blocking (O_NONBLOCK: a reader
// open returns at once), then reads until EOF: the init's "0", then,
// if the program could not be started, its error. Until the init opened
// its end, a read sees no writer (0 bytes) and the init's liveness is
// checked. The FIFO is removed when the init's end is closed: "running"
// (or "stopped") from then on.
func releaseInit(h *Handle) error {
	fd, err := unix.Open(h.FifoPath(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	var got []byte
	buf := make([]byte, 4096)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll exec fifo: %w", err)
		}
		k, rerr := unix.Read(fd, buf)
		if k > 0 {
			got = append(got, buf[:k]...)
			continue
		}
		if k == 0 && rerr == nil && len(got) > 0 {
			break // EOF after the init's byte: it exec'd or exited
		}
		if len(got) == 0 && !h.State.InitAlive() {
			os.Remove(h.FifoPath())
			return errors.New("container's init exited before start")
		}
		if n > 0 && len(got) == 0 {
			// POLLHUP: no writer yet; avoid spinning.
			time.Sleep(time.Millisecond)
		}
	}
	if err := os.Remove(h.FifoPath()); err != nil {
		return fmt.Errorf("remove exec fifo: %w", err)
	}
	if len(got) > 1 {
		return errors.New(string(got[1:]))
	}
	return nil
}

// Kill sends a signal to the container's init, or with all to every
// process in its cgroup (runc kill --all).
func (r Root) Kill(id string, sig unix.Signal, all bool) error {
	h, err := r.Open(id)
	if err != nil {
		return err
	}
	defer h.Close()
	st := &h.State
	status := st.Status(h.Dir, nil)
	if status == specs.StateStopped && !all {
		return errors.New("container not running")
	}
	if !all || st.CgroupNone {
		// No cgroup to list (rootless): the init's pid namespace
		// dies with it, so signalling it reaches the rest for KILL.
		return st.signalInit(sig)
	}
	m, err := st.cgroup()
	if err != nil {
		return err
	}
	pids, err := m.Pids()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill pid %d: %w", pid, err)
		}
	}
	return nil
}

// Delete removes a stopped container (runtime.md "delete"): its cgroup,
// its state, then the poststop hooks. force kills a running one first.
func (r Root) Delete(id string, force bool, explain io.Writer) error {
	h, err := r.Open(id)
	if err != nil {
		return err
	}
	defer h.Close()
	st := &h.State
	status := st.Status(h.Dir, nil)
	if status != specs.StateStopped && status != specs.StateCreated && !force {
		return fmt.Errorf("cannot delete a container in state %q (stop it first, or use --force)", status)
	}
	run := &step.Runner{Explain: explain, Prefix: "delete"}
	// A created container's init only waits for start: killing it is
	// what runc does on delete of a created container.
	if status != specs.StateStopped {
		st.signalInit(unix.SIGKILL)
	}
	if m, err := st.cgroup(); err == nil && m.Exists() {
		if err := run.Run(m.DeleteSteps(true)...); err != nil {
			return err
		}
	}
	waitGone(st)
	if err := h.Remove(); err != nil {
		return err
	}
	if st.Config != nil && st.Config.Hooks != nil {
		r.runHooksWarn("poststop", st.Config.Hooks.Poststop, ociState(st, specs.StateStopped))
	}
	return nil
}

// waitGone waits a little for a killed init to disappear, so a delete
// that returns leaves no process behind.
func waitGone(st *State) {
	for i := 0; i < 200 && st.InitAlive(); i++ {
		time.Sleep(5 * time.Millisecond)
	}
}

// cgroup is the container's cgroup manager (no resources: for kill,
// pause, stats and delete), from the directories recorded at create.
func (s *State) cgroup() (*cgroups.Manager, error) {
	if s.CgroupNone {
		return cgroups.None(s.CgroupPath, s.CgroupMode), nil
	}
	if len(s.CgroupDirs) == 0 {
		return cgroups.New(s.CgroupPath, nil)
	}
	return cgroups.Load(s.CgroupPath, s.CgroupMode, s.CgroupDirs)
}
