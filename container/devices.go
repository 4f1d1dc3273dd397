package container

import (
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(v int64) *int64 { return &v }

// defaultAllowedDevices are the device cgroup rules every container gets
// after its own: runc 1.1's specconv.AllowedDevices, in its order. mknod
// of any device; the nodes the runtime creates in /dev (config-linux.md
// "Default Devices"), each named by its path; /dev/pts/* and /dev/ptmx
// for terminals; and tun, which runc keeps for old users.
var defaultAllowedDevices = []struct {
	path string // the node it is for; "" for a rule not tied to one
	rule specs.LinuxDeviceCgroup
}{
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Access: "m"}},
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "b", Access: "m"}},
	{"/dev/null", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}},
	{"/dev/random", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"}},
	{"/dev/full", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"}},
	{"/dev/tty", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"}},
	{"/dev/zero", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"}},
	{"/dev/urandom", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"}},
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(136), Access: "rwm"}},                 // /dev/pts/*
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"}},    // /dev/ptmx
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}}, // /dev/net/tun
}

// containerResources is linux.resources with the device rules the
// container's cgroup gets, as runc 1.1 makes them: the config's own
// linux.resources.devices in their order, then defaultAllowedDevices,
// on top of "deny all" (the cgroup starts from an empty allow-list even
// when the config gives no rule). linux.devices only creates nodes: a
// device listed there may be opened only if a rule allows it. A default
// rule for a node that linux.devices lists again is left out (runc's
// createDevices: the config's entry replaces the default device).
func containerResources(s *specs.Spec) (*specs.LinuxResources, error) {
	var out specs.LinuxResources
	if r := s.Linux.Resources; r != nil {
		out = *r
	}
	out.Devices = append([]specs.LinuxDeviceCgroup(nil), out.Devices...)
	for i, d := range out.Devices {
		if d.Access == "" {
			// runc: "device access at %d field cannot be empty".
			return nil, fmt.Errorf("linux.resources.devices[%d]: access is empty (want some of \"rwm\")", i)
		}
	}
next:
	for _, d := range defaultAllowedDevices {
		if d.path != "" {
			for _, own := range s.Linux.Devices {
				if path.Clean(own.Path) == d.path {
					continue next
				}
			}
		}
		out.Devices = append(out.Devices, d.rule)
	}
	return &out, nil
}
