package container

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

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
