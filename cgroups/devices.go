package cgroups

import (
	"os"
	"path/filepath"

	lcg "github.com/opencontainers/cgroups"
)

// setDevicesV1 writes r's device rules to the v1 devices controller
// (setDevicesV1 in devices_v1.go): a fresh group gets deny-all, then the
// rules in the config's order; a group that has processes already
// (update, `cgroup set`) gets only the minimal transition.
func (m *Manager) setDevicesV1(r *lcg.Resources) error {
	dir := m.dir("devices")
	if dir == "" || r.SkipDevices {
		return nil
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	return setDevicesV1(dir, devRulesOf(r), len(procs) > 0)
}

// devRulesOf gives back the rules ToResources converted.
func devRulesOf(r *lcg.Resources) []DeviceRule {
	var out []DeviceRule
	for _, d := range r.Devices {
		out = append(out, DeviceRule{Type: rune(d.Type), Major: d.Major, Minor: d.Minor, Access: string(d.Permissions), Allow: d.Allow})
	}
	return out
}
