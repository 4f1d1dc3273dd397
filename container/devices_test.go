package container

import (
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/cgroups"
)

func TestContainerResourcesDevices(t *testing.T) {
	deny := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	one, eleven := int64(1), int64(11)
	kmsg := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &one, Minor: &eleven, Access: "w"}
	for _, tc := range []struct {
		name    string
		rules   []specs.LinuxDeviceCgroup
		devices []specs.LinuxDevice
		want    []string // CgroupString-like "allow type major:minor access" of each rule
		err     string
	}{
		{name: "no rules: only the defaults", want: defaultsAsStrings("")},
		{name: "own rules first, in order", rules: []specs.LinuxDeviceCgroup{deny, kmsg},
			want: append([]string{"deny a -1:-1 rwm", "allow c 1:11 w"}, defaultsAsStrings("")...)},
		{name: "linux.devices adds no rule", rules: []specs.LinuxDeviceCgroup{deny},
			devices: []specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}},
			want:    append([]string{"deny a -1:-1 rwm"}, defaultsAsStrings("")...)},
		{name: "a listed default device loses its default rule", rules: []specs.LinuxDeviceCgroup{deny},
			devices: []specs.LinuxDevice{{Path: "/dev//null", Type: "c", Major: 1, Minor: 3}},
			want:    append([]string{"deny a -1:-1 rwm"}, defaultsAsStrings("/dev/null")...)},
		{name: "empty access", rules: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c"}}, err: "devices[0]: access is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &specs.Spec{Linux: &specs.Linux{Devices: tc.devices}}
			if tc.rules != nil {
				s.Linux.Resources = &specs.LinuxResources{Devices: tc.rules}
			}
			r, err := containerResources(s)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range r.Devices {
				got = append(got, ruleString(d))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// defaultsAsStrings are cgroups.DefaultDeviceRules when linux.devices
// lists the node skip ("": none).
func defaultsAsStrings(skip string) []string {
	var devs []specs.LinuxDevice
	if skip != "" {
		devs = []specs.LinuxDevice{{Path: skip}}
	}
	var out []string
	for _, d := range cgroups.DefaultDeviceRules(devs) {
		out = append(out, ruleString(d))
	}
	return out
}

func ruleString(d specs.LinuxDeviceCgroup) string {
	num := func(p *int64) string {
		if p == nil {
			return "-1"
		}
		return strconv.FormatInt(*p, 10)
	}
	typ := d.Type
	if typ == "" {
		typ = "a"
	}
	allow := "deny"
	if d.Allow {
		allow = "allow"
	}
	return allow + " " + typ + " " + num(d.Major) + ":" + num(d.Minor) + " " + d.Access
}
