package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// limitFiles are the files that hold each controller's limits, by mode:
// what ReadBack and `cgroup show` print, so that each field a step sets
// (see fieldController) shows up as the kernel holds it. On v1 the key is
// the hierarchy (controller) the file lives in; on v2 every file is in
// the one directory. A file this kernel lacks is skipped.
var limitFiles = sync.OnceValue(func() map[bool]map[string][]string {
	return map[bool]map[string][]string{
		false: { // v1
			"cpuset": {"cpuset.cpus", "cpuset.mems"},
			"memory": {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
				"memory.swappiness", "memory.oom_control"},
			"cpu": {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.cfs_burst_us",
				"cpu.rt_runtime_us", "cpu.rt_period_us", "cpu.idle"},
			"pids": {"pids.max"},
			"blkio": {"blkio.weight", "blkio.weight_device", "blkio.bfq.weight", "blkio.bfq.weight_device",
				"blkio.leaf_weight", "blkio.leaf_weight_device",
				"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
				"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"},
			"hugetlb":  nil, // hugetlb.<size>.limit_in_bytes, added per size
			"devices":  {"devices.list"},
			"net_cls":  {"net_cls.classid"},
			"net_prio": {"net_prio.ifpriomap"},
			"rdma":     {"rdma.max"},
			"freezer":  {"freezer.state"},
		},
		true: { // v2
			"cpuset":  {"cpuset.cpus", "cpuset.mems"},
			"memory":  {"memory.max", "memory.low", "memory.swap.max"},
			"cpu":     {"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle"},
			"pids":    {"pids.max"},
			"blkio":   {"io.weight", "io.bfq.weight", "io.max"},
			"hugetlb": nil, // hugetlb.<size>.max
			"devices": nil, // an eBPF program, no file
			"rdma":    {"rdma.max"},
			"freezer": {"cgroup.freeze"},
		},
	}
})

// controllerOrder is the order show and set use.
var controllerOrder = []string{"cpuset", "memory", "cpu", "pids", "blkio", "hugetlb", "devices", "net_cls", "net_prio", "rdma", "freezer"}

// files lists controller's limit files in mode.
func files(ctrl string, mode Mode) []string {
	v2 := mode == Unified
	fs := limitFiles()[v2][ctrl]
	if ctrl == "hugetlb" {
		for _, size := range HugePageSizes() {
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
	return readNamed(dir, files(ctrl, mode))
}

// readNamed reads the files names in dir; a missing one is skipped.
func readNamed(dir string, names []string) ([]FileValue, error) {
	var out []FileValue
	for _, name := range names {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, errorf("read %s: %w", p, err)
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
