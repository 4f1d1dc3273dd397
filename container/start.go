package container

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
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
	return start(r, h)
}

// start is Start of the container h holds, locked and read.
func start(r Root, h *Handle) error {
	st := &h.State
	switch status := st.Status(h.Dir, nil); status {
	case specs.StateCreated:
	case specs.StateStopped:
		return errors.New("cannot start a container that has stopped")
	default:
		return errorf("cannot start a container in state %q", status)
	}
	if err := releaseInit(h, r.runner("start")); err != nil {
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
// (or "stopped") from then on. The init's error (or its exit before
// start) is returned as it is, not as a failed step.
func releaseInit(h *Handle, run *step.Runner) error {
	path := h.FifoPath()
	fd := -1
	var initErr error
	err := run.Run(
		step.Step{
			Op: "open", Args: path + ", O_RDONLY|O_NONBLOCK|O_CLOEXEC",
			Why: "a reader on the exec FIFO: the open for writing of the container's process (its Go init, or the exec trampoline) returns, and it executes the program",
			Do: func() (err error) {
				fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
				return err
			},
		},
		step.Step{
			Op: "read", Args: "exec fifo, until EOF",
			Why: "the init's end is close-on-exec: EOF comes with its execve; what follows its \"0\" is why it failed",
			Do: func() (err error) {
				defer unix.Close(fd)
				initErr, err = readInit(fd, h)
				return err
			},
		},
		step.Step{
			Op: "unlink", Args: path,
			Why: "no exec FIFO: the container is running (or stopped) from now on",
			Do: func() error {
				if err := os.Remove(path); err != nil && initErr == nil {
					return err
				}
				return nil
			},
		},
	)
	if err != nil {
		return err
	}
	return initErr
}

// readInit reads the exec FIFO fd until EOF after the init's byte.
// initErr is the init's own error: what it wrote after the byte, or its
// exit before it opened its end.
func readInit(fd int, h *Handle) (initErr, err error) {
	var got []byte
	buf := make([]byte, 4096)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return nil, errorf("poll: %w", err)
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
			return errors.New("container's init exited before start"), nil
		}
		if n > 0 && len(got) == 0 {
			// POLLHUP: no writer yet; avoid spinning.
			time.Sleep(time.Millisecond)
		}
	}
	if len(got) > 1 {
		// A raw init's failure (an op's record and name, raw.DecodeFailure),
		// or a Go init's error text.
		if err, ok := raw.DecodeFailure(got[1:]); ok {
			return err, nil
		}
		if err, ok := trampolineFailure(got[1:], h.State.Config); ok {
			return err, nil
		}
		return errors.New(string(got[1:])), nil
	}
	return nil, nil
}

// trampolineFailure is the exec trampoline's report of a failed execve
// (exeseal.Trampoline): `execve "` and the program's path, NUL, the errno
// byte; the error then reads as the Go init's execve step's.
func trampolineFailure(b []byte, spec *specs.Spec) (error, bool) {
	n := len(b)
	if n < 3 || b[n-2] != 0 || bytes.IndexByte(b[:n-2], 0) >= 0 || !bytes.HasPrefix(b, []byte(`execve "`)) {
		return nil, false
	}
	var args []string
	if spec != nil && spec.Process != nil {
		args = spec.Process.Args
	}
	return errorf("%s\", %q: %w", b[:n-2], args, syscall.Errno(b[n-1])), true
}
