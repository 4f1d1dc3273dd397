package container

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
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
	run := r.runner("kill")
	if !all || st.CgroupNone {
		// No cgroup to list (rootless): the init's pid namespace
		// dies with it, so signalling it reaches the rest for KILL.
		if !st.InitAlive() {
			return errors.New("container not running")
		}
		return run.RunOne(killStep(st.Pid, sig, "the container's init", false))
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
		if err := run.RunOne(killStep(pid, sig, "a process of the container's cgroup (--all)", true)); err != nil {
			return err
		}
	}
	return nil
}

// killStep is kill(2) of pid with sig. With gone, a process gone
// meanwhile (ESRCH) is not an error: it exited on its own.
func killStep(pid int, sig unix.Signal, why string, gone bool) step.Step {
	name := unix.SignalName(sig)
	if name == "" {
		name = strconv.Itoa(int(sig))
	}
	return step.Step{
		Op: "kill", Args: fmt.Sprintf("%d, %s", pid, name), Why: why,
		Do: func() error {
			if err := unix.Kill(pid, sig); err != nil && !(gone && errors.Is(err, unix.ESRCH)) {
				return err
			}
			return nil
		},
	}
}
