package cgroups

// The cgroup v1 writers: one directory per controller, each file written
// as runc's (opencontainers/cgroups fs) Set writes it, in the same order
// where the kernel cares (cgroup-v1/*.rst). differential_test.go runs the
// library beside them and compares the files.

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// setV1 writes controller ctrl's part of r into dir.
func setV1(ctrl, dir string, r *Resources) error {
	switch ctrl {
	case "cpuset":
		return setCpusetV1(dir, r)
	case "memory":
		return setMemoryV1(dir, r)
	case "cpu":
		return setCPUV1(dir, r)
	case "pids":
		return setPids(dir, r)
	case "blkio":
		return setBlkioV1(dir, r)
	case "hugetlb":
		return setHugetlb(dir, r, ".limit_in_bytes")
	case "net_cls":
		if r.NetClsClassid != 0 {
			return writeFile(dir, "net_cls.classid", strconv.FormatUint(uint64(r.NetClsClassid), 10))
		}
	case "net_prio":
		for _, p := range r.NetPrioIfpriomap {
			if err := writeFile(dir, "net_prio.ifpriomap", p.CgroupString()); err != nil {
				return err
			}
		}
	case "rdma":
		return setRdma(dir, r)
	}
	return nil
}

// cpusetFile is "cpuset."+name, or name alone in a hierarchy mounted
// with the noprefix option.
func cpusetFile(dir, name string) string {
	if !exists(filepath.Join(dir, "cpuset."+name)) && exists(filepath.Join(dir, name)) {
		return name
	}
	return "cpuset." + name
}

func setCpusetV1(dir string, r *Resources) error {
	if r.CpusetCpus != "" {
		if err := writeFile(dir, cpusetFile(dir, "cpus"), r.CpusetCpus); err != nil {
			return err
		}
	}
	if r.CpusetMems != "" {
		if err := writeFile(dir, cpusetFile(dir, "mems"), r.CpusetMems); err != nil {
			return err
		}
	}
	return nil
}

// mkdirCpusetV1 makes a v1 cpuset group: a new cpuset group starts with
// no CPUs and no memory nodes, and a process cannot join it until both
// are set, so each directory on the way gets its parent's lists first
// (the limits, when given, are written before the copy).
func mkdirCpusetV1(dir string, r *Resources) error {
	if err := cpusetEnsureParent(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	if err := setCpusetV1(dir, r); err != nil {
		return err
	}
	return cpusetCopyIfEmpty(dir, filepath.Dir(dir))
}

// cpusetEnsureParent makes dir and the directories above it inside the
// cpuset hierarchy, each with its parent's CPUs and nodes.
func cpusetEnsureParent(dir string) error {
	parent := filepath.Dir(dir)
	var st unix.Statfs_t
	err := unix.Statfs(parent, &st)
	if err == nil && st.Type != unix.CGROUP_SUPER_MAGIC {
		return nil // dir is the hierarchy's root
	}
	if err != nil && err != unix.ENOENT {
		return &os.PathError{Op: "statfs", Path: parent, Err: err}
	}
	if err := cpusetEnsureParent(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return cpusetCopyIfEmpty(dir, parent)
}

func cpusetCopyIfEmpty(dir, parent string) error {
	var cur, par [2]string
	for i, name := range []string{"cpus", "mems"} {
		var err error
		if cur[i], err = readFile(dir, cpusetFile(dir, name)); err != nil {
			return err
		}
	}
	for i, name := range []string{"cpus", "mems"} {
		var err error
		if par[i], err = readFile(parent, cpusetFile(parent, name)); err != nil {
			return err
		}
	}
	for i, name := range []string{"cpus", "mems"} {
		if cur[i] == "" || cur[i] == "\n" {
			if err := writeFile(dir, cpusetFile(dir, name), par[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// setMemoryV1 writes the limit and memory+swap in the order the kernel
// accepts: memory.memsw.limit_in_bytes may never be below
// memory.limit_in_bytes, so a raised memsw goes first and a lowered one
// last.
func setMemoryV1(dir string, r *Resources) error {
	swap := r.MemorySwap
	if r.Memory == unlimited && swap == 0 && exists(filepath.Join(dir, "memory.memsw.limit_in_bytes")) {
		swap = unlimited // no memory limit: no memory+swap limit either
	}
	ordered := false
	if r.Memory != 0 && swap != 0 {
		cur, err := readUint(dir, "memory.limit_in_bytes")
		if err != nil {
			return err
		}
		if swap == unlimited || cur < uint64(swap) {
			if err := setMemsw(dir, swap); err != nil {
				return err
			}
			if err := setMemoryLimit(dir, r.Memory); err != nil {
				return err
			}
			ordered = true
		}
	}
	if !ordered {
		if err := setMemoryLimit(dir, r.Memory); err != nil {
			return err
		}
		if err := setMemsw(dir, swap); err != nil {
			return err
		}
	}
	if r.MemoryReservation != 0 {
		if err := writeFile(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(r.MemoryReservation, 10)); err != nil {
			return err
		}
	}
	if r.OomKillDisable {
		if err := writeFile(dir, "memory.oom_control", "1"); err != nil {
			return err
		}
	}
	if s := r.MemorySwappiness; s != nil && int64(*s) != -1 {
		if *s > maxSwappiness {
			return errorf("invalid memory swappiness value: %d (valid range is 0-100)", *s)
		}
		return writeFile(dir, "memory.swappiness", strconv.FormatUint(*s, 10))
	}
	return nil
}

// setMemoryLimit writes memory.limit_in_bytes; the kernel refuses a
// limit below the group's usage with EBUSY (after trying to reclaim).
func setMemoryLimit(dir string, v int64) error {
	if v == 0 {
		return nil
	}
	err := writeFile(dir, "memory.limit_in_bytes", strconv.FormatInt(v, 10))
	if !errors.Is(err, unix.EBUSY) {
		return err
	}
	usage, err := readUint(dir, "memory.usage_in_bytes")
	if err != nil {
		return err
	}
	peak, err := readUint(dir, "memory.max_usage_in_bytes")
	if err != nil {
		return err
	}
	return errorf("unable to set memory limit to %d (current usage: %d, peak usage: %d)", v, usage, peak)
}

func setMemsw(dir string, v int64) error {
	if v == 0 {
		return nil
	}
	return writeFile(dir, "memory.memsw.limit_in_bytes", strconv.FormatInt(v, 10))
}

// setCPUV1 writes shares (read back: the kernel clamps them), then the
// CFS bandwidth: the period first, unless the kernel refuses it (EINVAL)
// with the current quota, then it is written again after the quota; the
// burst likewise.
func setCPUV1(dir string, r *Resources) error {
	if r.CpuShares != 0 {
		if err := writeFile(dir, "cpu.shares", strconv.FormatUint(r.CpuShares, 10)); err != nil {
			return err
		}
		got, err := readUint(dir, "cpu.shares")
		if err != nil {
			return err
		}
		switch {
		case r.CpuShares > got:
			return errorf("the maximum allowed cpu-shares is %d", got)
		case r.CpuShares < got:
			return errorf("the minimum allowed cpu-shares is %d", got)
		}
	}
	period := ""
	if r.CpuPeriod != 0 {
		v := strconv.FormatUint(r.CpuPeriod, 10)
		if err := writeFile(dir, "cpu.cfs_period_us", v); err != nil {
			if !errors.Is(err, unix.EINVAL) || r.CpuQuota == 0 {
				return err
			}
			period = v // retry after the quota
		}
	}
	burst := ""
	if r.CpuBurst != nil {
		v := strconv.FormatUint(*r.CpuBurst, 10)
		if err := writeFile(dir, "cpu.cfs_burst_us", v); err != nil {
			switch {
			case errors.Is(err, unix.ENOENT):
				// Before Linux 5.14: no burst (checkWritable refuses it first).
			case !errors.Is(err, unix.EINVAL) || r.CpuQuota == 0:
				return err
			default:
				burst = v
			}
		}
	}
	if r.CpuQuota != 0 {
		if err := writeFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(r.CpuQuota, 10)); err != nil {
			return err
		}
		if period != "" {
			if err := writeFile(dir, "cpu.cfs_period_us", period); err != nil {
				return err
			}
		}
		if burst != "" {
			if err := writeFile(dir, "cpu.cfs_burst_us", burst); err != nil {
				return err
			}
		}
	}
	if r.CPUIdle != nil {
		if err := writeFile(dir, "cpu.idle", strconv.FormatInt(*r.CPUIdle, 10)); err != nil {
			return err
		}
	}
	return setRtV1(dir, r)
}

// setRtV1 writes the real-time budget: the period first, unless the
// kernel refuses it (EINVAL) for the current runtime; then it follows
// the runtime.
func setRtV1(dir string, r *Resources) error {
	period := ""
	if r.CpuRtPeriod != 0 {
		v := strconv.FormatUint(r.CpuRtPeriod, 10)
		if err := writeFile(dir, "cpu.rt_period_us", v); err != nil {
			if !errors.Is(err, unix.EINVAL) || r.CpuRtRuntime == 0 {
				return err
			}
			period = v
		}
	}
	if r.CpuRtRuntime != 0 {
		if err := writeFile(dir, "cpu.rt_runtime_us", strconv.FormatInt(r.CpuRtRuntime, 10)); err != nil {
			return err
		}
		if period != "" {
			return writeFile(dir, "cpu.rt_period_us", period)
		}
	}
	return nil
}

// setPids writes pids.max (v1 and v2): -1 is "max".
func setPids(dir string, r *Resources) error {
	if r.PidsLimit == nil {
		return nil
	}
	v := "max"
	switch l := *r.PidsLimit; {
	case l > 0:
		v = strconv.FormatInt(l, 10)
	case l == 0:
		v = "1" // ToResources never gives 0 ("not set", as in runc 1.1)
	}
	return writeFile(dir, "pids.max", v)
}

// setBlkioV1 writes weights to blkio.weight* (CFQ) or, where the kernel
// has only BFQ, blkio.bfq.weight*; then the throttles, one device per
// write.
func setBlkioV1(dir string, r *Resources) error {
	weight, weightDevice := "blkio.weight", "blkio.weight_device"
	if !exists(filepath.Join(dir, weight)) {
		weight, weightDevice = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	if r.BlkioWeight != 0 {
		if err := writeFile(dir, weight, strconv.FormatUint(uint64(r.BlkioWeight), 10)); err != nil {
			return err
		}
	}
	if r.BlkioLeafWeight != 0 {
		if err := writeFile(dir, "blkio.leaf_weight", strconv.FormatUint(uint64(r.BlkioLeafWeight), 10)); err != nil {
			return err
		}
	}
	for _, d := range r.BlkioWeightDevice {
		if d.Weight != 0 {
			if err := writeFile(dir, weightDevice, d.weightLine(d.Weight)); err != nil {
				return err
			}
		}
		if d.LeafWeight != 0 {
			if err := writeFile(dir, "blkio.leaf_weight_device", d.weightLine(d.LeafWeight)); err != nil {
				return err
			}
		}
	}
	for _, t := range []struct {
		file string
		devs []*ThrottleDevice
	}{
		{"blkio.throttle.read_bps_device", r.BlkioThrottleReadBpsDevice},
		{"blkio.throttle.write_bps_device", r.BlkioThrottleWriteBpsDevice},
		{"blkio.throttle.read_iops_device", r.BlkioThrottleReadIOPSDevice},
		{"blkio.throttle.write_iops_device", r.BlkioThrottleWriteIOPSDevice},
	} {
		for _, d := range t.devs {
			if err := writeFile(dir, t.file, d.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// setHugetlb writes each size's limit (suffix ".limit_in_bytes" on v1,
// ".max" on v2) and the same to its reservation limit (".rsvd", Linux
// 5.7 and later; skipped for all sizes once one is missing).
func setHugetlb(dir string, r *Resources, suffix string) error {
	rsvd := true
	for _, h := range r.HugetlbLimit {
		prefix := "hugetlb." + h.Pagesize
		v := strconv.FormatUint(h.Limit, 10)
		if err := writeFile(dir, prefix+suffix, v); err != nil {
			return err
		}
		if !rsvd {
			continue
		}
		if err := writeFile(dir, prefix+".rsvd"+suffix, v); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			rsvd = false
		}
	}
	return nil
}

// setRdma writes one rdma.max line per device (v1 and v2), in device
// name order.
func setRdma(dir string, r *Resources) error {
	for _, dev := range slices.Sorted(maps.Keys(r.Rdma)) {
		l := r.Rdma[dev]
		line := dev
		if l.HcaHandles != nil {
			line += " hca_handle=" + strconv.FormatUint(uint64(*l.HcaHandles), 10)
		}
		if l.HcaObjects != nil {
			line += " hca_object=" + strconv.FormatUint(uint64(*l.HcaObjects), 10)
		}
		if err := writeFile(dir, "rdma.max", line); err != nil {
			return err
		}
	}
	return nil
}

// freezeV1 sets freezer.state. Freezing may stay in FREEZING while a
// task is in an uninterruptible sleep or the group is forking, so it is
// written and read back up to 1000 times, thawing for 10 ms every 50
// tries to let a stuck task move on (runc's loop); on failure the group
// is thawed again.
func freezeV1(dir string, freeze bool) (err error) {
	if !freeze {
		return writeFile(dir, "freezer.state", "THAWED")
	}
	defer func() {
		if err != nil {
			_ = writeFile(dir, "freezer.state", "THAWED")
		}
	}()
	for i := 0; i < 1000; i++ {
		if i%50 == 49 {
			_ = writeFile(dir, "freezer.state", "THAWED")
			time.Sleep(10 * time.Millisecond)
		}
		if err := writeFile(dir, "freezer.state", "FROZEN"); err != nil {
			return err
		}
		if i%25 == 24 {
			time.Sleep(10 * time.Microsecond)
		}
		state, err := readFile(dir, "freezer.state")
		if err != nil {
			return err
		}
		switch s := strings.TrimSpace(state); s {
		case "FREEZING":
			continue
		case "FROZEN":
			return nil
		default:
			return errorf("unexpected state %s while freezing", s)
		}
	}
	return errors.New("unable to freeze")
}

// frozenV1 reads freezer.state: FROZEN counts only when the group froze
// itself (freezer.self_freezing 1), not when a parent did; FREEZING is
// waited out.
func frozenV1(dir string) (bool, error) {
	for {
		state, err := readFile(dir, "freezer.state")
		if err != nil {
			return false, ignoreGone(err)
		}
		switch strings.TrimSpace(state) {
		case "THAWED":
			return false, nil
		case "FROZEN":
			self, err := readFile(dir, "freezer.self_freezing")
			if err != nil {
				return true, ignoreGone(err)
			}
			switch self {
			case "0\n":
				return false, nil
			case "1\n":
				return true, nil
			}
			return false, errorf("unknown freezer.self_freezing state %q", self)
		case "FREEZING":
			time.Sleep(time.Millisecond)
		default:
			return false, errorf("unknown freezer.state %q", state)
		}
	}
}

// ignoreGone: a group removed meanwhile (ENOENT, ENODEV) is no error.
func ignoreGone(err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	return err
}
