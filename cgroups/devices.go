package cgroups

import (
	"os"
	"path/filepath"
)

// setDevices writes the part's device rules: v1 to the devices
// controller (setDevicesV1 in devices_v1.go: a fresh group gets
// deny-all, then the rules in the config's order; a group that has
// processes already, as in update or `cgroup set`, gets only the minimal
// transition), v2 as an eBPF program attached to the group (setDevicesV2
// in devices_v2.go). No rules given: the controller is left alone.
func (m *Manager) setDevices(r *Resources) error {
	dir := m.dir("devices")
	if dir == "" || r.SkipDevices {
		return nil
	}
	if m.mode == Unified {
		return setDevicesV2(dir, r.Devices)
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	return setDevicesV1(dir, r.Devices, len(procs) > 0)
}
