package container

import (
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/step"
)

// Pause freezes every process of the container (runc pause): the
// cgroup freezer, v1 freezer.state or v2 cgroup.freeze.
func (r Root) Pause(id string, explain io.Writer) error {
	return r.freeze(id, true, explain, specs.StateRunning)
}

// Resume thaws a paused container.
func (r Root) Resume(id string, explain io.Writer) error {
	return r.freeze(id, false, explain, "paused")
}

func (r Root) freeze(id string, freeze bool, explain io.Writer, want specs.ContainerState) error {
	h, _, err := r.openIn(id, want)
	if err != nil {
		return err
	}
	defer h.Close()
	m, err := h.State.cgroup()
	if err != nil {
		return err
	}
	return (&step.Runner{Explain: explain, Prefix: "cgroup"}).Run(m.FreezeStep(freeze))
}
