package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/cgroups"
)

// containerResources is linux.resources with the device rules the
// container's cgroup gets, as runc 1.1 makes them: the config's own
// linux.resources.devices in their order, then cgroups.DefaultDeviceRules,
// on top of "deny all" (the cgroup starts from an empty allow-list even
// when the config gives no rule). linux.devices only creates nodes: a
// device listed there may be opened only if a rule allows it.
func containerResources(s *specs.Spec) (*specs.LinuxResources, error) {
	var out specs.LinuxResources
	if r := s.Linux.Resources; r != nil {
		out = *r
	}
	out.Devices = append([]specs.LinuxDeviceCgroup(nil), out.Devices...)
	for i, d := range out.Devices {
		if d.Access == "" {
			// runc: "device access at %d field cannot be empty".
			return nil, errorf("linux.resources.devices[%d]: access is empty (want some of \"rwm\")", i)
		}
	}
	out.Devices = append(out.Devices, cgroups.DefaultDeviceRules(s.Linux.Devices)...)
	return &out, nil
}
