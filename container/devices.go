package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(v int64) *int64 { return &v }

// defaultAllowedDevices are the device cgroup rules every container gets
// after its own (runc's AllowedDevices): mknod of any device, and use of
// the devices the runtime itself creates in /dev (config-linux.md
// "Default Devices"), /dev/pts/* and /dev/ptmx for terminals, and tun.
var defaultAllowedDevices = []specs.LinuxDeviceCgroup{
	{Allow: true, Type: "c", Access: "m"},
	{Allow: true, Type: "b", Access: "m"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},    // /dev/null
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"},    // /dev/random
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"},    // /dev/full
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"},    // /dev/tty
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},    // /dev/zero
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"},    // /dev/urandom
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(1), Access: "rwm"},    // /dev/console
	{Allow: true, Type: "c", Major: i64(136), Access: "rwm"},                 // /dev/pts/*
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},    // /dev/ptmx
	{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}, // /dev/net/tun
}

// containerResources is linux.resources with the device rules a
// container needs appended: the spec's own rules first (usually "deny
// all"), then the default devices and every device in linux.devices.
// With no device rules at all the devices controller is left alone.
func containerResources(s *specs.Spec) *specs.LinuxResources {
	r := s.Linux.Resources
	if r == nil || len(r.Devices) == 0 {
		return r
	}
	out := *r
	out.Devices = append(append([]specs.LinuxDeviceCgroup(nil), r.Devices...), defaultAllowedDevices...)
	for _, d := range s.Linux.Devices {
		out.Devices = append(out.Devices, specs.LinuxDeviceCgroup{
			Allow: true, Type: d.Type, Major: i64(d.Major), Minor: i64(d.Minor), Access: "rwm",
		})
	}
	return &out
}
