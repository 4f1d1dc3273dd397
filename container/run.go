package container

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// RunOpts are `run`'s flags: create's, plus detach and keep.
type RunOpts struct {
	CreateOpts
	// Detach returns once the container runs (run -d).
	Detach bool
	// Keep leaves a foreground container's state after it exits.
	Keep bool
	// NoSubreaper: in the foreground, do not become the child subreaper
	// (runc run --no-subreaper). By default, as runc, processes of the
	// container orphaned outside its PID namespace (none, or the host's)
	// are reparented to `run` (prctl PR_SET_CHILD_SUBREAPER) rather than
	// to the host's init.
	NoSubreaper bool
}

// Run creates and starts a container (runc run). In the foreground it
// forwards signals to the init, proxies the terminal when there is one
// and no console socket, waits, deletes the container unless Keep, and
// returns the exit status: the program's, or 128+N if signal N killed it.
//
// The forwarded signals stay caught when it returns (see catchSignals):
// the caller is expected to exit.
func (r Root) Run(o RunOpts) (int, error) {
	// Caught in the background while the container is made.
	sigs := catchSignals()
	spec, rootfsPath, err := LoadBundle(o.Bundle)
	if err != nil {
		return 1, err
	}
	o.bundle = &loadedBundle{spec: spec, rootfs: rootfsPath} // read once
	if !o.Detach && !o.NoSubreaper {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return 1, errorf("prctl PR_SET_CHILD_SUBREAPER: %w", err)
		}
	}
	// The clean-up delete is not explained: --explain shows what run is
	// made of, create and start.
	quiet := r
	quiet.Explain = nil
	var ptyConn *os.File
	if spec.Process.Terminal && o.ConsoleSocket == "" {
		if o.Detach {
			return 1, errors.New("cannot allocate a terminal for a detached container without --console-socket")
		}
		ours, theirs, err := consolePair()
		if err != nil {
			return 1, err
		}
		defer ours.Close()
		o.consoleConn = theirs
		ptyConn = ours
	}
	c, err := r.Create(o.CreateOpts)
	if o.consoleConn != nil {
		o.consoleConn.Close()
	}
	if err != nil {
		return 1, err
	}
	var tty *ttyProxy
	if ptyConn != nil {
		if tty, err = startTtyProxy(ptyConn); err != nil {
			quiet.deleteCreated(c)
			return 1, err
		}
		defer tty.restore()
	}
	// Forward signals from here on: a signal before start reaches the
	// init too, as with runc.
	sigs.wait()
	if err := r.startCreated(c); err != nil {
		quiet.deleteCreated(c)
		return 1, err
	}
	if o.Detach {
		return 0, nil
	}
	code := waitForeground(c, sigs.ch, tty)
	if !o.Keep {
		if err := quiet.deleteCreated(c); err != nil {
			return code, err
		}
	}
	return code, nil
}

// startCreated and deleteCreated are Start and Delete (force) of the
// container Create just made, with the state Create holds: run reads
// and decodes no state.json. Delete uses only what no other command
// changes (the init's pid, the cgroup, the poststop hooks; the status
// is read from the kernel), as runc's run destroys its own container
// object.
func (r Root) startCreated(c *Container) error {
	h, err := r.lockCreated(c)
	if err != nil {
		return err
	}
	defer h.Close()
	return start(r, h)
}

func (r Root) deleteCreated(c *Container) error {
	h, err := r.lockCreated(c)
	if err != nil {
		return err
	}
	defer h.Close()
	return r.delete(h, true)
}

func (r Root) lockCreated(c *Container) (*Handle, error) {
	h, err := openLocked(r.dir(c.State.ID))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	h.State = c.State
	return h, nil
}
