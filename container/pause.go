package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Pause freezes every process of the container (runc pause): the
// cgroup freezer, v1 freezer.state or v2 cgroup.freeze.
func (r Root) Pause(id string) error {
	return r.freeze(id, true, specs.StateRunning)
}

// Resume thaws a paused container.
func (r Root) Resume(id string) error {
	return r.freeze(id, false, statusPaused)
}

func (r Root) freeze(id string, freeze bool, want specs.ContainerState) error {
	h, _, err := r.openIn(id, want)
	if err != nil {
		return err
	}
	defer h.Close()
	m, err := h.State.cgroup()
	if err != nil {
		return err
	}
	return r.runner("cgroup").Run(m.FreezeStep(freeze))
}
