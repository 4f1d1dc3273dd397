package cgroups

import (
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func defaultDevNum(n int64) *int64 { return &n }

// defaultDeviceRules are runc 1.1's specconv.AllowedDevices, in its
// order: mknod of any device; the nodes a runtime creates in /dev
// (config-linux.md "Default Devices"), each named by its path;
// /dev/pts/* and /dev/ptmx for terminals; and tun, which runc keeps for
// old users.
var defaultDeviceRules = []struct {
	path string // the node it is for; "" for a rule not tied to one
	rule specs.LinuxDeviceCgroup
}{
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Access: "m"}},
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "b", Access: "m"}},
	{"/dev/null", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(1), Minor: defaultDevNum(3), Access: "rwm"}},
	{"/dev/random", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(1), Minor: defaultDevNum(8), Access: "rwm"}},
	{"/dev/full", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(1), Minor: defaultDevNum(7), Access: "rwm"}},
	{"/dev/tty", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(5), Minor: defaultDevNum(0), Access: "rwm"}},
	{"/dev/zero", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(1), Minor: defaultDevNum(5), Access: "rwm"}},
	{"/dev/urandom", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(1), Minor: defaultDevNum(9), Access: "rwm"}},
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(136), Access: "rwm"}},                           // /dev/pts/*
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(5), Minor: defaultDevNum(2), Access: "rwm"}},    // /dev/ptmx
	{"", specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: defaultDevNum(10), Minor: defaultDevNum(200), Access: "rwm"}}, // /dev/net/tun
}

// DefaultDeviceRules are the device cgroup rules every container gets
// after its own linux.resources.devices (runc 1.1's
// specconv.AllowedDevices, in its order). A default rule for a node that
// devices (linux.devices) lists again is left out, as runc's
// createDevices does: the config's entry replaces the default device.
// The result is a new slice.
func DefaultDeviceRules(devices []specs.LinuxDevice) []specs.LinuxDeviceCgroup {
	out := make([]specs.LinuxDeviceCgroup, 0, len(defaultDeviceRules))
next:
	for _, d := range defaultDeviceRules {
		if d.path != "" {
			for _, own := range devices {
				if path.Clean(own.Path) == d.path {
					continue next
				}
			}
		}
		out = append(out, d.rule)
	}
	return out
}
