package cgroups

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ParseSize reads a byte count as the CLI takes it: "65536", "64k",
// "64m", "1g" (powers of 1024, case-insensitive, an optional trailing
// "b"), or "-1"/"max" for no limit.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "max" || t == "-1" {
		return -1, nil
	}
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want bytes with an optional k, m, g or t suffix", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("size %q is negative (use -1 or max for no limit)", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// ParseDeviceRule reads a devices.allow/devices.deny line: "TYPE
// MAJOR:MINOR ACCESS", e.g. "c 1:3 rwm", "b *:* m", or "a" (all).
func ParseDeviceRule(allow bool, s string) (specs.LinuxDeviceCgroup, error) {
	d := specs.LinuxDeviceCgroup{Allow: allow}
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 3 || (f[0] != "a" && len(f) < 2) {
		return d, fmt.Errorf("device rule %q: want \"TYPE MAJOR:MINOR [ACCESS]\" like \"c 1:3 rwm\"", s)
	}
	switch f[0] {
	case "a", "b", "c":
		d.Type = f[0]
	default:
		return d, fmt.Errorf("device rule %q: type %q is not a, b or c", s, f[0])
	}
	if len(f) > 1 {
		maj, min, ok := strings.Cut(f[1], ":")
		if !ok {
			return d, fmt.Errorf("device rule %q: %q is not MAJOR:MINOR", s, f[1])
		}
		var err error
		if d.Major, err = devNum(maj); err != nil {
			return d, fmt.Errorf("device rule %q: major: %w", s, err)
		}
		if d.Minor, err = devNum(min); err != nil {
			return d, fmt.Errorf("device rule %q: minor: %w", s, err)
		}
	}
	d.Access = "rwm"
	if len(f) == 3 {
		if strings.Trim(f[2], "rwm") != "" {
			return d, fmt.Errorf("device rule %q: access %q is not made of r, w and m", s, f[2])
		}
		d.Access = f[2]
	}
	return d, nil
}

// devNum is a device major or minor number; "*" is nil (any).
func devNum(s string) (*int64, error) {
	if s == "*" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%q is not a number or *", s)
	}
	return &n, nil
}

// ParseHugetlb reads "PAGESIZE=LIMIT", e.g. "2MB=64m".
func ParseHugetlb(s string) (specs.LinuxHugepageLimit, error) {
	size, limit, ok := strings.Cut(s, "=")
	if !ok || size == "" {
		return specs.LinuxHugepageLimit{}, fmt.Errorf("hugetlb %q: want PAGESIZE=LIMIT like 2MB=64m", s)
	}
	n, err := ParseSize(limit)
	if err != nil {
		return specs.LinuxHugepageLimit{}, fmt.Errorf("hugetlb %q: %w", s, err)
	}
	if n < 0 {
		n = math.MaxInt64 // "max"
	}
	return specs.LinuxHugepageLimit{Pagesize: size, Limit: uint64(n)}, nil
}
