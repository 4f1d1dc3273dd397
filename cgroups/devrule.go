package cgroups

import (
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// devWildcard is the Major or Minor of a rule that matches every number
// ("*" in devices.allow).
const devWildcard = -1

// DeviceRule is one entry of linux.resources.devices (config-linux.md
// "Allowed Device List") as the device controller takes it: on v1 a line
// written to devices.allow or devices.deny, on v2 a block of the eBPF
// filter.
type DeviceRule struct {
	// Type is 'a' (every device; Major, Minor and Access are then
	// ignored, as the kernel ignores them), 'b' (block) or 'c' (char).
	Type rune
	// Major and Minor are the device numbers; devWildcard (-1) is "*".
	Major, Minor int64
	// Access is a combination of 'r' (read), 'w' (write) and 'm' (mknod),
	// as the config gave it (order and repeats kept).
	Access string
	// Allow is true for devices.allow, false for devices.deny.
	Allow bool
}

// String gives the rule in the kernel's devices.allow form: "c 1:3 rwm",
// "a *:* rwm" (Documentation/admin-guide/cgroup-v1/devices.rst).
func (r DeviceRule) String() string {
	return string(r.Type) + " " + devNumber(r.Major) + ":" + devNumber(r.Minor) + " " + r.Access
}

func devNumber(n int64) string {
	if n == devWildcard {
		return "*"
	}
	return strconv.FormatInt(n, 10)
}

// DeviceRulesFromSpec validates the config's device rules and converts
// them, in order. A missing type is 'a', a missing major or minor the
// wildcard, a missing access "rwm". It refuses a type other than a, b or
// c (runc's cgroup code takes no 'p' either), a number below -1 and an
// access with letters other than r, w and m; the error names the entry
// ("devices[2]: type \"p\" is not a, b or c").
func DeviceRulesFromSpec(in []specs.LinuxDeviceCgroup) ([]DeviceRule, error) {
	var out []DeviceRule
	for i, d := range in {
		rule, err := deviceRuleFromSpec(d)
		if err != nil {
			return nil, errorf("devices[%d]: %w", i, err)
		}
		out = append(out, rule)
	}
	return out, nil
}

func deviceRuleFromSpec(d specs.LinuxDeviceCgroup) (DeviceRule, error) {
	rule := DeviceRule{Allow: d.Allow, Major: devWildcard, Minor: devWildcard, Access: "rwm"}
	switch d.Type {
	case "", "a":
		rule.Type = 'a'
	case "b", "c":
		rule.Type = rune(d.Type[0])
	default:
		return rule, errorf("type %q is not a, b or c", d.Type)
	}
	if d.Major != nil {
		if *d.Major < devWildcard {
			return rule, errorf("major %d is negative", *d.Major)
		}
		rule.Major = *d.Major
	}
	if d.Minor != nil {
		if *d.Minor < devWildcard {
			return rule, errorf("minor %d is negative", *d.Minor)
		}
		rule.Minor = *d.Minor
	}
	if d.Access != "" {
		if strings.Trim(d.Access, "rwm") != "" {
			return rule, errorf("access %q is not made of r, w and m", d.Access)
		}
		rule.Access = d.Access
	}
	return rule, nil
}
