package container

import (
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Delete removes a stopped container (runtime.md "delete"): its cgroup,
// its state, then the poststop hooks. force kills a running one first.
func (r Root) Delete(id string, force bool) error {
	h, err := r.openAny(id)
	if err != nil {
		return err
	}
	defer h.Close()
	return r.delete(h, force)
}

// delete is Delete of the container h holds, locked and read.
func (r Root) delete(h *Handle, force bool) error {
	st := &h.State
	status := st.Status(h.Dir, nil)
	if status != specs.StateStopped && status != specs.StateCreated && !force {
		return errorf("cannot delete a container in state %q (stop it first, or use --force)", status)
	}
	run := r.runner("delete")
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
