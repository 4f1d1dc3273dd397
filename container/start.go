package container

import (
	"errors"
	"fmt"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
