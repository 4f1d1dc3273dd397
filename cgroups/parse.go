package cgroups

import (
	"errors"
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
		return 0, errorf("size %q: want bytes with an optional k, m, g or t suffix", s)
	}
	if n < 0 {
		return 0, errorf("size %q is negative (use -1 or max for no limit)", s)
	}
	if n > math.MaxInt64/mult {
		return 0, errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// ParseDeviceRule reads a devices.allow/devices.deny line: "TYPE
// MAJOR:MINOR ACCESS", e.g. "c 1:3 rwm", "b *:* m", or "a" (all).
func ParseDeviceRule(allow bool, s string) (specs.LinuxDeviceCgroup, error) {
	d := specs.LinuxDeviceCgroup{Allow: allow}
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 3 || (f[0] != "a" && len(f) < 2) {
		return d, errorf("device rule %q: want \"TYPE MAJOR:MINOR [ACCESS]\" like \"c 1:3 rwm\"", s)
	}
	switch f[0] {
	case "a", "b", "c":
		d.Type = f[0]
	default:
		return d, errorf("device rule %q: type %q is not a, b or c", s, f[0])
	}
	if len(f) > 1 {
		maj, min, ok := strings.Cut(f[1], ":")
		if !ok {
			return d, errorf("device rule %q: %q is not MAJOR:MINOR", s, f[1])
		}
		var err error
		if d.Major, err = devNum(maj); err != nil {
			return d, errorf("device rule %q: major: %w", s, err)
		}
		if d.Minor, err = devNum(min); err != nil {
			return d, errorf("device rule %q: minor: %w", s, err)
		}
	}
	d.Access = "rwm"
	if len(f) == 3 {
		if strings.Trim(f[2], "rwm") != "" {
			return d, errorf("device rule %q: access %q is not made of r, w and m", s, f[2])
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
		return nil, errorf("%q is not a number or *", s)
	}
	return &n, nil
}

// ParseHugetlb reads "PAGESIZE=LIMIT", e.g. "2MB=64m".
func ParseHugetlb(s string) (specs.LinuxHugepageLimit, error) {
	size, limit, ok := strings.Cut(s, "=")
	if !ok || size == "" {
		return specs.LinuxHugepageLimit{}, errorf("hugetlb %q: want PAGESIZE=LIMIT like 2MB=64m", s)
	}
	n, err := ParseSize(limit)
	if err != nil {
		return specs.LinuxHugepageLimit{}, errorf("hugetlb %q: %w", s, err)
	}
	if n < 0 {
		n = math.MaxInt64 // "max"
	}
	return specs.LinuxHugepageLimit{Pagesize: size, Limit: uint64(n)}, nil
}

// LimitNames are the limits SetLimit takes for create, set and run, by
// the names of runc update's flags; SetLimit also takes update's
// cpu-rt-period, cpu-rt-runtime, kernel-memory and kernel-memory-tcp.
var LimitNames = []string{"memory", "memory-swap", "memory-reservation", "pids-limit", "cpu-shares",
	"cpu-weight", "cpu-quota", "cpu-period", "cpuset-cpus", "cpuset-mems", "blkio-weight"}

// SetLimit sets the field of r that limit name (LimitNames) stands for,
// from v as a command line gives it: memory sizes as ParseSize takes
// them, pids-limit and cpu-quota (microseconds) and cpu-rt-runtime
// integers, cpu-shares, cpu-period and cpu-rt-period unsigned,
// cpu-weight 1..10000 (the v2 file cpu.weight, in linux.resources.unified:
// the spec has no CPU weight), blkio-weight 0..65535, cpuset lists as
// they are. An error starts with the name.
func SetLimit(r *specs.LinuxResources, name, v string) error {
	bad := func(err error) error { return errorf("%s %q: %v", name, v, err) }
	// The value is parsed once by its kind, then stored: one parse per
	// kind in the binary, not one inlined at each limit.
	var (
		i64 *int64
		u64 *uint64
	)
	switch name {
	case "memory", "memory-swap", "memory-reservation", "kernel-memory", "kernel-memory-tcp":
		n, err := ParseSize(v)
		if err != nil {
			return errorf("%s: %v", name, err)
		}
		i64 = &n
	case "pids-limit", "cpu-quota", "cpu-rt-runtime":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return bad(errors.New("not an integer"))
		}
		i64 = &n
	case "cpu-shares", "cpu-period", "cpu-rt-period", "cpu-weight", "blkio-weight":
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return bad(errors.New("not a non-negative integer"))
		}
		u64 = &n
	}
	switch name {
	case "memory":
		limitMemory(r).Limit = i64
	case "memory-swap":
		limitMemory(r).Swap = i64
	case "memory-reservation":
		limitMemory(r).Reservation = i64
	case "kernel-memory":
		limitMemory(r).Kernel = i64 //nolint:staticcheck // deprecated, still runc's flag
	case "kernel-memory-tcp":
		limitMemory(r).KernelTCP = i64 //nolint:staticcheck // deprecated, still runc's flag
	case "pids-limit":
		r.Pids = &specs.LinuxPids{Limit: i64}
	case "cpu-shares":
		limitCPU(r).Shares = u64
	case "cpu-quota":
		limitCPU(r).Quota = i64
	case "cpu-period":
		limitCPU(r).Period = u64
	case "cpu-rt-period":
		limitCPU(r).RealtimePeriod = u64
	case "cpu-rt-runtime":
		limitCPU(r).RealtimeRuntime = i64
	case "cpuset-cpus":
		limitCPU(r).Cpus = v
	case "cpuset-mems":
		limitCPU(r).Mems = v
	case "cpu-weight":
		if *u64 < 1 || *u64 > 10000 {
			return bad(errors.New("outside 1..10000"))
		}
		if r.Unified == nil {
			r.Unified = map[string]string{}
		}
		r.Unified["cpu.weight"] = v
	case "blkio-weight":
		if *u64 > 65535 {
			return bad(errors.New("too large"))
		}
		w := uint16(*u64)
		limitBlkio(r).Weight = &w
	default:
		return errorf("%s: no such limit", name)
	}
	return nil
}

func limitMemory(r *specs.LinuxResources) *specs.LinuxMemory {
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	return r.Memory
}

func limitCPU(r *specs.LinuxResources) *specs.LinuxCPU {
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	return r.CPU
}

func limitBlkio(r *specs.LinuxResources) *specs.LinuxBlockIO {
	if r.BlockIO == nil {
		r.BlockIO = &specs.LinuxBlockIO{}
	}
	return r.BlockIO
}

// ParseWeightDevice reads a linux.resources.blockIO.weightDevice entry
// as a command line gives it: "MAJOR:MINOR=WEIGHT" (8:0=500).
func ParseWeightDevice(s string) (specs.LinuxWeightDevice, error) {
	var d specs.LinuxWeightDevice
	dev, w, ok := strings.Cut(s, "=")
	maj, min, ok2 := strings.Cut(dev, ":")
	if !ok || !ok2 {
		return d, errorf("want MAJOR:MINOR=WEIGHT like 8:0=500")
	}
	var err error
	if d.Major, err = strconv.ParseInt(maj, 10, 64); err != nil {
		return d, errorf("major %q is not a number", maj)
	}
	if d.Minor, err = strconv.ParseInt(min, 10, 64); err != nil {
		return d, errorf("minor %q is not a number", min)
	}
	n, err := strconv.ParseUint(w, 10, 16)
	if err != nil {
		return d, errorf("weight %q is not a number", w)
	}
	wt := uint16(n)
	d.Weight = &wt
	return d, nil
}
