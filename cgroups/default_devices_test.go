package cgroups

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultDeviceRules are runc 1.1's AllowedDevices in its order; a node
// that linux.devices lists again (by a path that cleans to it) loses its
// default rule, and no other rule is dropped.
func TestDefaultDeviceRules(t *testing.T) {
	runc := []string{"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm",
		"c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"}
	without := func(rule string) []string {
		var out []string
		for _, r := range runc {
			if r != rule {
				out = append(out, r)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		devices []specs.LinuxDevice
		want    []string
	}{
		{name: "no devices", want: runc},
		{name: "own null", devices: []specs.LinuxDevice{{Path: "/dev//null"}}, want: without("c 1:3 rwm")},
		{name: "own tty", devices: []specs.LinuxDevice{{Path: "/dev/tty"}}, want: without("c 5:0 rwm")},
		{name: "ptmx is no default node", devices: []specs.LinuxDevice{{Path: "/dev/ptmx"}}, want: runc},
		{name: "another node", devices: []specs.LinuxDevice{{Path: "/dev/kmsg"}}, want: runc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range DefaultDeviceRules(tc.devices) {
				if !r.Allow {
					t.Errorf("rule %+v denies", r)
				}
				got = append(got, fmt.Sprintf("%s %s:%s %s", r.Type, defaultRuleNum(r.Major), defaultRuleNum(r.Minor), r.Access))
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("rules %q, want %q", got, tc.want)
			}
		})
	}
	// The result is the caller's: changing it changes no later result.
	DefaultDeviceRules(nil)[2].Access = "r"
	if DefaultDeviceRules(nil)[2].Access != "rwm" {
		t.Error("DefaultDeviceRules returned shared rules")
	}
}

func defaultRuleNum(p *int64) string {
	if p == nil {
		return "*"
	}
	return fmt.Sprint(*p)
}
