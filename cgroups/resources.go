package cgroups

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Kernel limits on the values (see the kernel's cgroup-v1/*.rst and
// cgroup-v2.rst). Checking them first gives an error that names the
// field instead of an EINVAL from a write.
const (
	minShares, maxShares = 2, 262144     // cpu.shares (v1)
	minPeriod, maxPeriod = 1000, 1000000 // cpu.cfs_period_us: 1 ms .. 1 s
	minQuota             = 1000          // cpu.cfs_quota_us: at least 1 ms
	minWeight, maxWeight = 1, 10000      // cpu.weight (v2)
	minBlkio, maxBlkio   = 10, 1000      // blkio.weight (v1); io.weight is 1..10000
	maxSwappiness        = 100           // memory.swappiness
	unlimited            = -1            // "max"/no limit in the spec's int64 fields
)

// isCpusetList: a cpuset.cpus/mems list like "0-3,5", the regexp
// ^\d+(-\d+)?(,\d+(-\d+)?)*$ written out (no package regexp in the binary).
func isCpusetList(s string) bool {
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !allOf(lo, isDigit) || isRange && !allOf(hi, isDigit) {
			return false
		}
	}
	return true
}

// isUnifiedKey: a cgroup v2 file name like "memory.high", the regexp
// ^[a-z_]+\.[a-z0-9_.]+$ written out.
func isUnifiedKey(s string) bool {
	ctrl, file, ok := strings.Cut(s, ".")
	return ok && allOf(ctrl, func(c byte) bool { return 'a' <= c && c <= 'z' || c == '_' }) &&
		allOf(file, func(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) || c == '_' || c == '.' })
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// allOf: s is not empty and every byte of it is ok.
func allOf(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Resources are the limits of one cgroup, converted from the spec's
// linux.resources for the host's mode and validated (ToResources). The
// field names are runc's (opencontainers/cgroups' Resources), so that
// --explain shows the values under the names a runc user knows; the
// files each lands in are the writers' business (v1.go, v2.go). A zero
// field is not set.
type Resources struct {
	Devices []DeviceRule // device rules in the config's order (devices)

	Memory            int64   // memory.limit_in_bytes / memory.max, bytes; -1: no limit
	MemoryReservation int64   // memory.soft_limit_in_bytes / memory.low, bytes
	MemorySwap        int64   // memory+swap (memsw.limit_in_bytes); v2 writes swap.max = MemorySwap - Memory
	CpuShares         uint64  // cpu.shares (v1)
	CpuQuota          int64   // µs per period; -1: no limit
	CpuBurst          *uint64 // cpu.cfs_burst_us / cpu.max.burst, µs
	CpuPeriod         uint64  // cpu.cfs_period_us / the second field of cpu.max, µs
	CpuRtRuntime      int64   // cpu.rt_runtime_us (v1)
	CpuRtPeriod       uint64  // cpu.rt_period_us (v1)
	CpusetCpus        string  // cpuset.cpus: "0-3,5"
	CpusetMems        string  // cpuset.mems
	CPUIdle           *int64  // cpu.idle: 1 puts the group in SCHED_IDLE
	PidsLimit         *int64  // pids.max; -1: "max"

	BlkioWeight                  uint16            // blkio.weight / io.bfq.weight, or io.weight converted
	BlkioLeafWeight              uint16            // blkio.leaf_weight (v1)
	BlkioWeightDevice            []*WeightDevice   // per-device weights
	BlkioThrottleReadBpsDevice   []*ThrottleDevice // bytes per second
	BlkioThrottleWriteBpsDevice  []*ThrottleDevice
	BlkioThrottleReadIOPSDevice  []*ThrottleDevice // I/Os per second
	BlkioThrottleWriteIOPSDevice []*ThrottleDevice

	HugetlbLimit     []*HugepageLimit     // hugetlb.<size>.limit_in_bytes / .max
	OomKillDisable   bool                 // memory.oom_control (v1)
	MemorySwappiness *uint64              // memory.swappiness (v1)
	NetPrioIfpriomap []*IfPrioMap         // net_prio.ifpriomap (v1)
	NetClsClassid    uint32               // net_cls.classid (v1)
	Rdma             map[string]RdmaLimit // rdma.max, by device
	CpuWeight        uint64               // cpu.weight (v2), from cpu.shares
	Unified          map[string]string    // v2 files by name, written as given

	// SkipDevices: no device rules were given; the devices controller
	// is left as the group inherited it.
	SkipDevices bool
	// MemoryCheckBeforeUpdate: refuse a memory limit at or below the
	// current usage (v2; v1's kernel refuses it with EBUSY itself).
	MemoryCheckBeforeUpdate bool
}

// BlockIODevice is a block device by number.
type BlockIODevice struct {
	Major int64
	Minor int64
}

// WeightDevice is a per-device weight (and v1 leaf weight).
type WeightDevice struct {
	BlockIODevice
	Weight     uint16
	LeafWeight uint16
}

// weightLine is "MAJOR:MINOR WEIGHT", the *weight_device syntax.
func (d *WeightDevice) weightLine(w uint16) string {
	return strconv.FormatInt(d.Major, 10) + ":" + strconv.FormatInt(d.Minor, 10) + " " + strconv.FormatUint(uint64(w), 10)
}

// ThrottleDevice is a per-device rate (bytes or I/Os per second).
type ThrottleDevice struct {
	BlockIODevice
	Rate uint64
}

// String is the v1 throttle file syntax "MAJOR:MINOR RATE".
func (d *ThrottleDevice) String() string {
	return strconv.FormatInt(d.Major, 10) + ":" + strconv.FormatInt(d.Minor, 10) + " " + strconv.FormatUint(d.Rate, 10)
}

// ioMax is the v2 io.max line "MAJOR:MINOR KEY=RATE" (key rbps, wbps,
// riops or wiops).
func (d *ThrottleDevice) ioMax(key string) string {
	return strconv.FormatInt(d.Major, 10) + ":" + strconv.FormatInt(d.Minor, 10) + " " + key + "=" + strconv.FormatUint(d.Rate, 10)
}

// HugepageLimit caps one huge page size ("2MB", "1GB"), in bytes.
type HugepageLimit struct {
	Pagesize string
	Limit    uint64
}

// IfPrioMap is one net_prio.ifpriomap entry.
type IfPrioMap struct {
	Interface string
	Priority  int64
}

// CgroupString is the net_prio.ifpriomap syntax "IFACE PRIO".
func (i *IfPrioMap) CgroupString() string {
	return i.Interface + " " + strconv.FormatInt(i.Priority, 10)
}

// RdmaLimit caps one RDMA device's HCA handles and objects (nil: not set).
type RdmaLimit struct {
	HcaHandles *uint32
	HcaObjects *uint32
}

// sharesToWeight converts v1 cpu.shares (2..262144) to v2 cpu.weight
// (1..10000) as runc and crun do: a quadratic in log2(shares) that maps
// 2 to 1, 1024 (the default) to 100 and 262144 to 10000.
func sharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= 2:
		return 1
	case shares >= 262144:
		return 10000
	}
	l := math.Log2(float64(shares))
	return uint64(math.Ceil(math.Pow(10, (l*l+125*l)/612.0-7.0/34.0)))
}

// blkioToIOWeight converts a v1 blkio weight (10..1000) to v2 io.weight
// (1..10000), linearly, as runc does.
func blkioToIOWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	return 1 + (uint64(w)-10)*9999/990
}

// swapToV2 is memory.swap.max for the spec's memory+swap (swap) and
// memory limit: the swap alone, "max" (-1) or unset (0), as runc
// converts them; errors for a swap the limit does not allow.
func swapToV2(swap, memory int64) (int64, error) {
	switch {
	case memory == -1 && swap == 0:
		return -1, nil // no memory limit: no swap limit either
	case swap == -1, swap == 0:
		return swap, nil
	case memory == -1:
		return swap, nil // unlimited memory: swap is the swap alone
	case memory == 0:
		return 0, errors.New("unable to set swap limit without memory limit")
	case memory < 0:
		return 0, errorf("invalid memory value: %d", memory)
	case swap < memory:
		return 0, errors.New("memory+swap limit should be >= memory limit")
	}
	return swap - memory, nil
}

// ToResources validates r and converts it to Resources for
// a host in mode. Field names in errors are the spec's JSON names
// ("memory.limit"). A nil r gives empty Resources. Device rules are kept
// as given (a non-empty list is an allow-list after its first rule, as
// in runc: start with {"allow":false,"access":"rwm"} to deny all);
// an empty list leaves the device controller alone (SkipDevices).
func ToResources(r *specs.LinuxResources, mode Mode) (*Resources, error) {
	c := &Resources{SkipDevices: true}
	if r == nil {
		return c, nil
	}
	for _, conv := range []func(*specs.LinuxResources, *Resources, Mode) error{
		convMemory, convCPU, convPids, convBlockIO, convHugetlb, convDevices, convUnified, convNetwork, convRdma, convV1Only,
	} {
		if err := conv(r, c, mode); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Ignored lists the fields of r that are accepted and never written, as
// runc 1.1 accepts them, each with the reason: the caller warns about
// them (runc logs "Kernel memory settings are ignored and will be
// removed").
func Ignored(r *specs.LinuxResources) []string {
	if r != nil && r.Memory != nil && (r.Memory.Kernel != nil || r.Memory.KernelTCP != nil) { //nolint:staticcheck // deprecated in the spec, still sent by old clients
		return []string{"memory.kernel, memory.kernelTCP: kernel memory settings are ignored (kernel memory counts in memory.limit; Linux 5.16 removed kmem limits)"}
	}
	return nil
}

func convMemory(r *specs.LinuxResources, c *Resources, _ Mode) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	page := int64(os.Getpagesize())
	if m.Limit != nil {
		v := *m.Limit
		switch {
		case v < unlimited:
			return errorf("memory.limit: %d is negative (use -1 for no limit)", v)
		case v > 0 && v < page:
			// The kernel rounds the limit down to whole pages: 0 bytes.
			return errorf("memory.limit: %d bytes is below one page (%d bytes): no process could run", v, page)
		}
		c.Memory = v
	}
	if m.Reservation != nil {
		v := *m.Reservation
		if v < unlimited {
			return errorf("memory.reservation: %d is negative (use -1 for none)", v)
		}
		if c.Memory > 0 && v > c.Memory {
			return errorf("memory.reservation: %d is above memory.limit %d", v, c.Memory)
		}
		c.MemoryReservation = v
	}
	if m.Swap != nil {
		// The spec's swap is memory+swap (v1's memory.memsw.limit_in_bytes).
		v := *m.Swap
		switch {
		case v < unlimited:
			return errorf("memory.swap: %d is negative (use -1 for unlimited swap)", v)
		case v > 0 && c.Memory == 0:
			return errorf("memory.swap: %d needs memory.limit (swap is memory+swap)", v)
		case v > 0 && v < c.Memory:
			return errorf("memory.swap: %d (memory+swap) is below memory.limit %d", v, c.Memory)
		}
		c.MemorySwap = v
	}
	if m.Swappiness != nil {
		if *m.Swappiness > maxSwappiness {
			return errorf("memory.swappiness: %d is above %d", *m.Swappiness, maxSwappiness)
		}
		c.MemorySwappiness = m.Swappiness
	}
	if m.DisableOOMKiller != nil {
		c.OomKillDisable = *m.DisableOOMKiller
	}
	if m.CheckBeforeUpdate != nil {
		c.MemoryCheckBeforeUpdate = *m.CheckBeforeUpdate
	}
	// memory.kernel and kernelTCP: kernel memory is always accounted
	// with user memory now (kmem limits were removed in Linux 5.16 and
	// are deprecated in the spec); ignored like runc does.
	return nil
}

func convCPU(r *specs.LinuxResources, c *Resources, mode Mode) error {
	p := r.CPU
	if p == nil {
		return nil
	}
	if p.Shares != nil && *p.Shares != 0 {
		v := *p.Shares
		if v < minShares || v > maxShares {
			return errorf("cpu.shares: %d is outside %d..%d", v, minShares, maxShares)
		}
		c.CpuShares = v
		if mode == Unified {
			// v2 has cpu.weight (1..10000) instead: convert like runc.
			c.CpuWeight = sharesToWeight(v)
			c.CpuShares = 0
		}
	}
	if p.Quota != nil && *p.Quota != 0 {
		v := *p.Quota
		if v < unlimited || (v > 0 && v < minQuota) {
			return errorf("cpu.quota: %d must be -1 (no limit) or at least %d microseconds", v, minQuota)
		}
		c.CpuQuota = v
	}
	if p.Period != nil && *p.Period != 0 {
		v := *p.Period
		if v < minPeriod || v > maxPeriod {
			return errorf("cpu.period: %d is outside %d..%d microseconds", v, minPeriod, maxPeriod)
		}
		c.CpuPeriod = v
	}
	if p.Burst != nil {
		c.CpuBurst = p.Burst
	}
	if p.RealtimeRuntime != nil {
		c.CpuRtRuntime = *p.RealtimeRuntime
	}
	if p.RealtimePeriod != nil {
		c.CpuRtPeriod = *p.RealtimePeriod
	}
	if p.Idle != nil {
		c.CPUIdle = p.Idle
	}
	for name, v := range map[string]string{"cpu.cpus": p.Cpus, "cpu.mems": p.Mems} {
		if v != "" && !isCpusetList(v) {
			return errorf("%s: %q is not a list like \"0-3,5\"", name, v)
		}
	}
	c.CpusetCpus, c.CpusetMems = p.Cpus, p.Mems
	return nil
}

func convPids(r *specs.LinuxResources, c *Resources, _ Mode) error {
	// 0 is "not set", as in runc 1.1 (the library would write
	// pids.max=1, a group that cannot fork).
	if r.Pids == nil || r.Pids.Limit == nil || *r.Pids.Limit == 0 {
		return nil
	}
	if v := *r.Pids.Limit; v < unlimited {
		return errorf("pids.limit: %d is negative (use -1 for no limit)", v)
	}
	c.PidsLimit = r.Pids.Limit
	return nil
}

func convBlockIO(r *specs.LinuxResources, c *Resources, _ Mode) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	weight := func(name string, w *uint16) (uint16, error) {
		if w == nil || *w == 0 {
			return 0, nil
		}
		if *w < minBlkio || *w > maxBlkio {
			return 0, errorf("%s: %d is outside %d..%d", name, *w, minBlkio, maxBlkio)
		}
		return *w, nil
	}
	var err error
	if c.BlkioWeight, err = weight("blockIO.weight", b.Weight); err != nil {
		return err
	}
	if c.BlkioLeafWeight, err = weight("blockIO.leafWeight", b.LeafWeight); err != nil {
		return err
	}
	for i, d := range b.WeightDevice {
		name := fmt.Sprintf("blockIO.weightDevice[%d]", i)
		if d.Major < 0 || d.Minor < 0 {
			return errorf("%s: device %d:%d is negative", name, d.Major, d.Minor)
		}
		w, err := weight(name+".weight", d.Weight)
		if err != nil {
			return err
		}
		lw, err := weight(name+".leafWeight", d.LeafWeight)
		if err != nil {
			return err
		}
		c.BlkioWeightDevice = append(c.BlkioWeightDevice, &WeightDevice{BlockIODevice{d.Major, d.Minor}, w, lw})
	}
	for _, t := range []struct {
		name string
		in   []specs.LinuxThrottleDevice
		out  *[]*ThrottleDevice
	}{
		{"blockIO.throttleReadBpsDevice", b.ThrottleReadBpsDevice, &c.BlkioThrottleReadBpsDevice},
		{"blockIO.throttleWriteBpsDevice", b.ThrottleWriteBpsDevice, &c.BlkioThrottleWriteBpsDevice},
		{"blockIO.throttleReadIOPSDevice", b.ThrottleReadIOPSDevice, &c.BlkioThrottleReadIOPSDevice},
		{"blockIO.throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice, &c.BlkioThrottleWriteIOPSDevice},
	} {
		for i, d := range t.in {
			if d.Major < 0 || d.Minor < 0 {
				return errorf("%s[%d]: device %d:%d is negative", t.name, i, d.Major, d.Minor)
			}
			*t.out = append(*t.out, &ThrottleDevice{BlockIODevice{d.Major, d.Minor}, d.Rate})
		}
	}
	return nil
}

func convHugetlb(r *specs.LinuxResources, c *Resources, _ Mode) error {
	sizes := HugePageSizes() // from /sys/kernel/mm/hugepages: "2MB", "1GB"
	for i, h := range r.HugepageLimits {
		if !slices.Contains(sizes, h.Pagesize) {
			return errorf("hugepageLimits[%d].pageSize: %q is not a huge page size of this kernel (have %s)",
				i, h.Pagesize, strings.Join(sizes, ", "))
		}
		c.HugetlbLimit = append(c.HugetlbLimit, &HugepageLimit{Pagesize: h.Pagesize, Limit: h.Limit})
	}
	return nil
}

func convDevices(r *specs.LinuxResources, c *Resources, _ Mode) error {
	rules, err := DeviceRulesFromSpec(r.Devices)
	if err != nil {
		return err
	}
	c.Devices = rules
	c.SkipDevices = len(c.Devices) == 0
	return nil
}

func convUnified(r *specs.LinuxResources, c *Resources, mode Mode) error {
	if len(r.Unified) == 0 {
		return nil
	}
	if mode != Unified {
		return errorf("unified: cgroup v2 files, but this host's cgroups are %s", mode)
	}
	for k := range r.Unified {
		if !isUnifiedKey(k) {
			return errorf("unified: %q is not a cgroup file name like \"memory.high\"", k)
		}
	}
	c.Unified = r.Unified
	return nil
}

// convNetwork converts network (v1 net_cls.classid and
// net_prio.ifpriomap); cgroup v2 has neither controller (tag packets with
// an eBPF program instead).
func convNetwork(r *specs.LinuxResources, c *Resources, mode Mode) error {
	n := r.Network
	if n == nil || ((n.ClassID == nil || *n.ClassID == 0) && len(n.Priorities) == 0) {
		return nil
	}
	if mode == Unified {
		return errors.New("network: cgroup v2 has no net_cls or net_prio controller")
	}
	if n.ClassID != nil {
		c.NetClsClassid = *n.ClassID
	}
	for i, p := range n.Priorities {
		if p.Name == "" || strings.ContainsAny(p.Name, " \n/") {
			return errorf("network.priorities[%d].name: %q is not an interface name", i, p.Name)
		}
		c.NetPrioIfpriomap = append(c.NetPrioIfpriomap, &IfPrioMap{Interface: p.Name, Priority: int64(p.Priority)})
	}
	return nil
}

// convRdma converts rdma (rdma.max per device, v1 and v2).
func convRdma(r *specs.LinuxResources, c *Resources, _ Mode) error {
	for dev, l := range r.Rdma {
		if dev == "" || strings.ContainsAny(dev, " \n") {
			return errorf("rdma: %q is not an RDMA device name", dev)
		}
		if l.HcaHandles == nil && l.HcaObjects == nil {
			continue
		}
		if c.Rdma == nil {
			c.Rdma = map[string]RdmaLimit{}
		}
		c.Rdma[dev] = RdmaLimit{HcaHandles: l.HcaHandles, HcaObjects: l.HcaObjects}
	}
	return nil
}

// convV1Only refuses, on cgroup v2, the fields only v1 has a file for
// (the library would leave them out, as runc 1.1 does, silently).
func convV1Only(r *specs.LinuxResources, _ *Resources, mode Mode) error {
	if mode != Unified {
		return nil
	}
	if m := r.Memory; m != nil {
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			return errors.New("memory.disableOOMKiller: cgroup v2 cannot turn the OOM killer off (memory.oom_control is v1 only)")
		}
		if m.Swappiness != nil {
			return errors.New("memory.swappiness: cgroup v2 has no per-group swappiness (memory.swappiness is v1 only)")
		}
	}
	if p := r.CPU; p != nil && ((p.RealtimeRuntime != nil && *p.RealtimeRuntime != 0) || (p.RealtimePeriod != nil && *p.RealtimePeriod != 0)) {
		return errors.New("cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no real-time group scheduling (cpu.rt_* are v1 only)")
	}
	if b := r.BlockIO; b != nil {
		leaf := b.LeafWeight != nil && *b.LeafWeight != 0
		for _, d := range b.WeightDevice {
			leaf = leaf || (d.LeafWeight != nil && *d.LeafWeight != 0)
		}
		if leaf {
			return errors.New("blockIO.leafWeight: cgroup v2 has no leaf weights (blkio.leaf_weight is v1 only)")
		}
	}
	return nil
}

// WithPartners is req, an update of a group whose limits are cur, plus
// the fields of cur the kernel takes together with the ones req gives
// (runc update merges the whole config): memory.limit with memory.swap
// (swap is memory+swap in the spec; v2's memory.swap.max is the
// difference), and cpu.quota with cpu.period (v2 writes both to cpu.max,
// so a quota alone would reset the period to 100000). req and cur are
// not changed.
func WithPartners(req, cur *specs.LinuxResources) *specs.LinuxResources {
	if req == nil || cur == nil {
		return req
	}
	out := *req
	if m, c := req.Memory, cur.Memory; m != nil && c != nil && m.Swap != nil && m.Limit == nil && c.Limit != nil {
		mm := *m
		mm.Limit = c.Limit
		out.Memory = &mm
	}
	if p, c := req.CPU, cur.CPU; p != nil && c != nil {
		pp := *p
		if p.Quota != nil && p.Period == nil {
			pp.Period = c.Period
		}
		if p.Period != nil && p.Quota == nil {
			pp.Quota = c.Quota
		}
		out.CPU = &pp
	}
	return &out
}
