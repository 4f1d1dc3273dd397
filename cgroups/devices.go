package cgroups

// setDevices writes the part's device rules: v1 to the devices
// controller (setDevicesV1 in devices_v1.go: the transition from what
// devices.list shows, as runc's), v2 as an eBPF program attached to the
// group (setDevicesV2 in devices_v2.go). No rules given: the controller
// is left alone.
func (m *Manager) setDevices(r *Resources) error {
	dir := m.dir("devices")
	if dir == "" || r.SkipDevices {
		return nil
	}
	if m.mode == Unified {
		return setDevicesV2(dir, r.Devices)
	}
	return setDevicesV1(dir, r.Devices)
}
