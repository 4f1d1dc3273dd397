package container

import (
	"encoding/json"
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/cgroups"
)

// Update changes a running container's resources (runc update) and keeps
// the new values in its state, so a later update merges with them.
func (r Root) Update(id string, res *specs.LinuxResources) error {
	h, _, err := r.openIn(id, specs.StateRunning, specs.StateCreated, statusPaused)
	if err != nil {
		return err
	}
	defer h.Close()
	m, err := h.State.cgroup()
	if err != nil {
		return err
	}
	var cur *specs.LinuxResources
	if c := h.State.Config; c != nil && c.Linux != nil {
		cur = c.Linux.Resources
	}
	steps, err := m.UpdateSteps(cgroups.WithPartners(res, cur))
	ignored := cgroups.Ignored(res)
	for _, w := range ignored {
		r.warnf("%s", w)
	}
	if errors.Is(err, cgroups.ErrNoLimits) && len(ignored) > 0 {
		return nil // only ignored fields: runc warns and succeeds
	}
	if err != nil {
		return err
	}
	if err := r.runner("cgroup").Run(steps...); err != nil {
		return err
	}
	return h.mergeResources(res)
}

// mergeResources overlays res on the stored linux.resources: a JSON
// decode into the existing value sets only the fields res has.
func (h *Handle) mergeResources(res *specs.LinuxResources) error {
	spec := h.State.Config
	if spec.Linux.Resources == nil {
		spec.Linux.Resources = &specs.LinuxResources{}
	}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, spec.Linux.Resources); err != nil {
		return err
	}
	return h.Save()
}
