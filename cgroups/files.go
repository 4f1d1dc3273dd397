package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	lcg "github.com/opencontainers/cgroups"
)

// limitFiles are the files that hold each controller's limits, by mode.
// On v1 the key is the hierarchy (controller) the file lives in; on v2
// every file is in the one directory.
var limitFiles = map[bool]map[string][]string{
	false: { // v1
		"cpuset":  {"cpuset.cpus", "cpuset.mems"},
		"memory":  {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness"},
		"cpu":     {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"},
		"pids":    {"pids.max"},
		"blkio":   {"blkio.weight", "blkio.weight_device"},
		"hugetlb": nil, // hugetlb.<size>.limit_in_bytes, added per size
		"devices": {"devices.list"},
		"freezer": {"freezer.state"},
	},
	true: { // v2
		"cpuset":  {"cpuset.cpus", "cpuset.mems"},
		"memory":  {"memory.max", "memory.low", "memory.swap.max"},
		"cpu":     {"cpu.weight", "cpu.max"},
		"pids":    {"pids.max"},
		"blkio":   {"io.weight", "io.bfq.weight"},
		"hugetlb": nil, // hugetlb.<size>.max
		"devices": nil, // an eBPF program, no file
		"freezer": {"cgroup.freeze"},
	},
}

// controllerOrder is the order show and set use.
var controllerOrder = []string{"cpuset", "memory", "cpu", "pids", "blkio", "hugetlb", "devices", "freezer"}

// files lists controller's limit files in mode.
func files(ctrl string, mode Mode) []string {
	v2 := mode == Unified
	fs := limitFiles[v2][ctrl]
	if ctrl == "hugetlb" {
		for _, size := range lcg.HugePageSizes() {
			if v2 {
				fs = append(fs, "hugetlb."+size+".max")
			} else {
				fs = append(fs, "hugetlb."+size+".limit_in_bytes")
			}
		}
	}
	return fs
}

// FileValue is one cgroup file and what the kernel holds in it.
type FileValue struct {
	Path  string // absolute path
	Value string // the file's content, lines joined by "; "
}

func (f FileValue) String() string { return f.Path + " = " + f.Value }

// readFiles reads controller's limit files in dir, skipping the ones
// this kernel doesn't have (memory.memsw.* without swap accounting,
// blkio.weight without CFQ/BFQ).
func readFiles(dir, ctrl string, mode Mode) ([]FileValue, error) {
	var out []FileValue
	for _, name := range files(ctrl, mode) {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		v := strings.Join(strings.Fields(strings.ReplaceAll(string(b), "\n", "; ")), " ")
		out = append(out, FileValue{Path: p, Value: strings.TrimSuffix(v, ";")})
	}
	return out, nil
}

func joinValues(fv []FileValue) string {
	s := make([]string, len(fv))
	for i, f := range fv {
		s[i] = f.String()
	}
	if len(s) == 0 {
		return "(no limit files)"
	}
	return strings.Join(s, ", ")
}

// writes describes, for --explain, the files Set writes for r (as the
// library will write them; the read-back shows what the kernel made of
// them).
func writes(ctrl string, r *lcg.Resources, mode Mode) []string {
	v2 := mode == Unified
	var w []string
	add := func(file, val string) { w = append(w, file+"="+val) }
	num := func(v int64) string {
		if v == unlimited {
			return "max"
		}
		return strconv.FormatInt(v, 10)
	}
	switch ctrl {
	case "cpuset":
		if r.CpusetCpus != "" {
			add("cpuset.cpus", r.CpusetCpus)
		}
		if r.CpusetMems != "" {
			add("cpuset.mems", r.CpusetMems)
		}
	case "memory":
		if v2 {
			if r.Memory != 0 {
				add("memory.max", num(r.Memory))
			}
			if r.MemoryReservation != 0 {
				add("memory.low", num(r.MemoryReservation))
			}
			if r.MemorySwap != 0 {
				sw, _ := lcg.ConvertMemorySwapToCgroupV2Value(r.MemorySwap, r.Memory)
				add("memory.swap.max", num(sw))
			}
			break
		}
		if r.Memory != 0 {
			add("memory.limit_in_bytes", num(r.Memory))
		}
		if r.MemoryReservation != 0 {
			add("memory.soft_limit_in_bytes", num(r.MemoryReservation))
		}
		if r.MemorySwap != 0 {
			add("memory.memsw.limit_in_bytes", num(r.MemorySwap))
		}
		if r.MemorySwappiness != nil {
			add("memory.swappiness", strconv.FormatUint(*r.MemorySwappiness, 10))
		}
	case "cpu":
		if v2 {
			if r.CpuWeight != 0 {
				add("cpu.weight", strconv.FormatUint(r.CpuWeight, 10))
			}
			if r.CpuQuota != 0 || r.CpuPeriod != 0 {
				add("cpu.max", num(r.CpuQuota)+" "+strconv.FormatUint(r.CpuPeriod, 10))
			}
			break
		}
		if r.CpuShares != 0 {
			add("cpu.shares", strconv.FormatUint(r.CpuShares, 10))
		}
		if r.CpuPeriod != 0 {
			add("cpu.cfs_period_us", strconv.FormatUint(r.CpuPeriod, 10))
		}
		if r.CpuQuota != 0 {
			add("cpu.cfs_quota_us", strconv.FormatInt(r.CpuQuota, 10))
		}
	case "pids":
		if r.PidsLimit != nil {
			add("pids.max", num(*r.PidsLimit))
		}
	case "blkio":
		f := "blkio.weight"
		if v2 {
			f = "io.weight"
		}
		if r.BlkioWeight != 0 {
			add(f, strconv.Itoa(int(r.BlkioWeight)))
		}
		for _, d := range r.BlkioWeightDevice {
			add(f+"_device", d.WeightString())
		}
	case "hugetlb":
		for _, h := range r.HugetlbLimit {
			if v2 {
				add("hugetlb."+h.Pagesize+".max", strconv.FormatUint(h.Limit, 10))
			} else {
				add("hugetlb."+h.Pagesize+".limit_in_bytes", strconv.FormatUint(h.Limit, 10))
			}
		}
	case "devices":
		for _, d := range r.Devices {
			if v2 {
				add("bpf-rule", d.CgroupString())
			} else if d.Allow {
				add("devices.allow", d.CgroupString())
			} else {
				add("devices.deny", d.CgroupString())
			}
		}
	case "unified":
		for k, v := range r.Unified {
			add(k, v)
		}
	}
	return w
}
