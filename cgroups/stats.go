package cgroups

import (
	"errors"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// Stats is what the kernel counts for a cgroup, shaped like the "data"
// of `runc events --stats` (runc's types.Stats), so that the lifecycle's
// events command can print it as is.
type Stats struct {
	CPU     CPU                `json:"cpu"`
	Memory  Memory             `json:"memory"`
	Pids    Pids               `json:"pids"`
	Blkio   Blkio              `json:"blkio"`
	Hugetlb map[string]Hugetlb `json:"hugetlb"`
}

// CPU is cpuacct.* (v1) or cpu.stat (v2); times in nanoseconds.
type CPU struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
}

// CPUUsage is the group's CPU time, in nanoseconds.
type CPUUsage struct {
	Total  uint64   `json:"total,omitempty"`
	Percpu []uint64 `json:"percpu,omitempty"`
	Kernel uint64   `json:"kernel"`
	User   uint64   `json:"user"`
}

// Throttling counts CFS periods where the quota ran out.
type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// MemoryEntry is one memory counter: bytes used, the limit, the peak and
// how often the limit was hit.
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Memory is memory.* of the group; Raw is memory.stat.
type Memory struct {
	Cache  uint64            `json:"cache,omitempty"`
	Usage  MemoryEntry       `json:"usage,omitempty"`
	Swap   MemoryEntry       `json:"swap,omitempty"`
	Kernel MemoryEntry       `json:"kernel,omitempty"`
	Raw    map[string]uint64 `json:"raw,omitempty"`
}

// Pids is pids.current and pids.max (0: no limit).
type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// BlkioEntry is one per-device I/O counter.
type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

// Blkio is blkio.* (v1) or io.stat (v2).
type Blkio struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
}

// Hugetlb is one huge page size's use.
type Hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// StatsStep is Stats as a step, for --explain: the result goes to *st.
func (m *Manager) StatsStep(st **Stats) step.Step {
	files := "memory.*, cpu.stat, cpuacct.*, pids.*, blkio.*, hugetlb.* in " + m.dirList()
	if m.mode == Unified {
		files = "pids.*, memory.stat, memory.current/max/peak, memory.swap.*, io.stat, cpu.stat, hugetlb.* in " + m.dirList()
	}
	return step.Step{Op: "read", Args: files,
		Why: "the kernel's counters of the group's use: CPU time, memory, pids, block I/O",
		Do: func() (err error) {
			*st, err = m.Stats()
			return err
		}}
}

// Stats reads the cgroup's counters, as runc's `events --stats` reads
// them: v1 from memory.*, cpu.stat, cpuacct.*, pids.*, blkio.* and
// hugetlb.* in each controller's directory; v2 from pids.*, memory.stat,
// memory.current/max/peak and memory.swap.*, io.stat, cpu.stat and
// hugetlb.* in the one directory.
func (m *Manager) Stats() (*Stats, error) {
	if m.rootless && len(m.dirs) == 0 {
		// A rootless container without a cgroup: runc's stats are
		// all zero, not an error.
		return &Stats{Hugetlb: map[string]Hugetlb{}}, nil
	}
	if !m.Exists() {
		return nil, errorf("cgroup %s does not exist", m.path)
	}
	s := &Stats{Hugetlb: map[string]Hugetlb{}, Memory: Memory{Raw: map[string]uint64{}}}
	var err error
	if m.mode == Unified {
		err = statsV2(m.dirs[""], s)
	} else {
		err = statsV1(m.dirs, s)
	}
	if err != nil {
		return nil, errorf("stats of cgroup %s: %w", m.path, err)
	}
	return s, nil
}

// statsV1 reads each v1 controller's counters; a controller whose
// directory is missing counts nothing.
func statsV1(dirs map[string]string, s *Stats) error {
	for _, st := range []struct {
		ctrl string
		read func(string, *Stats) error
	}{
		{"memory", memoryStatsV1}, {"cpu", cpuStatsV1}, {"cpuacct", cpuacctStats},
		{"pids", pidsStatsV1}, {"blkio", blkioStats}, {"hugetlb", hugetlbStatsV1},
	} {
		if d := dirs[st.ctrl]; d != "" {
			if err := st.read(d, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// readKeyValues reads a flat-keyed file ("key N" lines) into set.
func readKeyValues(dir, file string, set func(string, uint64)) error {
	data, err := readFile(dir, file)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		k, v, err := keyValue(line)
		if err != nil {
			return parseErr(dir, file, err)
		}
		set(k, v)
	}
	return nil
}

func memoryStatsV1(dir string, s *Stats) error {
	err := readKeyValues(dir, "memory.stat", func(k string, v uint64) { s.Memory.Raw[k] = v })
	if errors.Is(err, os.ErrNotExist) {
		return nil // no memory controller here
	}
	if err != nil {
		return err
	}
	s.Memory.Cache = s.Memory.Raw["cache"]
	for _, e := range []struct {
		name string
		out  *MemoryEntry
	}{{"", &s.Memory.Usage}, {"memsw", &s.Memory.Swap}, {"kmem", &s.Memory.Kernel}, {"kmem.tcp", nil}} {
		var me MemoryEntry
		if err := memoryEntryV1(dir, e.name, &me); err != nil {
			return err
		}
		if e.out != nil {
			*e.out = me
		}
	}
	// Read as runc does: a group without it is not a memory group.
	if _, err := readUint(dir, "memory.use_hierarchy"); err != nil {
		return err
	}
	return nil
}

// memoryEntryV1 reads memory[.name].{usage_in_bytes, max_usage_in_bytes,
// failcnt, limit_in_bytes}; a counter the kernel lacks (memsw without
// swap accounting, kmem after Linux 5.16's removal of its limit) is 0.
func memoryEntryV1(dir, name string, e *MemoryEntry) error {
	prefix := "memory."
	if name != "" {
		prefix += name + "."
	}
	var err error
	if e.Usage, err = readUint(dir, prefix+"usage_in_bytes"); err != nil {
		if name != "" && errors.Is(err, os.ErrNotExist) {
			*e = MemoryEntry{}
			return nil
		}
		return err
	}
	if e.Max, err = readUint(dir, prefix+"max_usage_in_bytes"); err != nil {
		return err
	}
	if e.Failcnt, err = readUint(dir, prefix+"failcnt"); err != nil {
		return err
	}
	if e.Limit, err = readUint(dir, prefix+"limit_in_bytes"); err != nil {
		if name == "kmem" && errors.Is(err, os.ErrNotExist) {
			e.Limit = 0
			return nil
		}
		return err
	}
	return nil
}

// cpuStatsV1 reads the CFS throttling counters of cpu.stat.
func cpuStatsV1(dir string, s *Stats) error {
	err := readKeyValues(dir, "cpu.stat", func(k string, v uint64) {
		switch k {
		case "nr_periods":
			s.CPU.Throttling.Periods = v
		case "nr_throttled":
			s.CPU.Throttling.ThrottledPeriods = v
		case "throttled_time":
			s.CPU.Throttling.ThrottledTime = v
		}
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// clockTicks is USER_HZ, the unit of cpuacct.stat: 100 on every Linux
// architecture.
const clockTicks = 100

// cpuacctStats reads cpuacct.usage (ns), cpuacct.usage_percpu and the
// user/system split of cpuacct.stat (clock ticks, converted to ns).
func cpuacctStats(dir string, s *Stats) error {
	if !exists(dir) {
		return nil
	}
	data, err := readFile(dir, "cpuacct.stat")
	if err != nil {
		return err
	}
	f := strings.Fields(data)
	if len(f) < 4 || f[0] != "user" || f[2] != "system" {
		return parseErr(dir, "cpuacct.stat", errorf("malformed line: %s", data))
	}
	user, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return parseErr(dir, "cpuacct.stat", err)
	}
	sys, err := strconv.ParseUint(f[3], 10, 64)
	if err != nil {
		return parseErr(dir, "cpuacct.stat", err)
	}
	total, err := readUint(dir, "cpuacct.usage")
	if err != nil {
		return err
	}
	data, err = readFile(dir, "cpuacct.usage_percpu")
	if err != nil {
		return err
	}
	percpu := []uint64{}
	for _, v := range strings.Fields(data) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return parseErr(dir, "cpuacct.usage_percpu", err)
		}
		percpu = append(percpu, n)
	}
	s.CPU.Usage = CPUUsage{
		Total: total, Percpu: percpu,
		User: user * 1e9 / clockTicks, Kernel: sys * 1e9 / clockTicks,
	}
	return nil
}

// pidsStatsV1 reads pids.current and pids.max ("max" reads as 0).
func pidsStatsV1(dir string, s *Stats) error {
	if !exists(dir) {
		return nil
	}
	cur, err := readUint(dir, "pids.current")
	if err != nil {
		return err
	}
	return pidsMax(dir, cur, s)
}

func pidsMax(dir string, cur uint64, s *Stats) error {
	max, err := readUint(dir, "pids.max")
	if err != nil {
		return err
	}
	if max == math.MaxUint64 {
		max = 0
	}
	s.Pids = Pids{Current: cur, Limit: max}
	return nil
}

// blkioFiles are the v1 blkio counter sets, best first, as runc tries
// them: BFQ with debug files, BFQ, CFQ, the throttle layer's recursive
// counters, its own. A set is used when its first file has entries;
// only the bytes and I/Os served are kept.
var blkioFiles = [][]string{
	{"blkio.bfq.sectors_recursive", "blkio.bfq.io_service_time_recursive", "blkio.bfq.io_wait_time_recursive",
		"blkio.bfq.io_merged_recursive", "blkio.bfq.io_queued_recursive", "blkio.bfq.time_recursive",
		"blkio.bfq.io_serviced_recursive", "blkio.bfq.io_service_bytes_recursive"},
	{"blkio.bfq.io_serviced_recursive", "blkio.bfq.io_service_bytes_recursive"},
	{"blkio.sectors_recursive", "blkio.io_service_time_recursive", "blkio.io_wait_time_recursive",
		"blkio.io_merged_recursive", "blkio.io_queued_recursive", "blkio.time_recursive",
		"blkio.io_serviced_recursive", "blkio.io_service_bytes_recursive"},
	{"blkio.throttle.io_serviced_recursive", "blkio.throttle.io_service_bytes_recursive"},
	{"blkio.throttle.io_serviced", "blkio.throttle.io_service_bytes"},
}

func blkioStats(dir string, s *Stats) error {
	for _, set := range blkioFiles {
		for i, file := range set {
			entries, err := blkioEntries(dir, file)
			if err != nil || entries == nil {
				if i == 0 {
					break // try the next set
				}
				return err // a set cut short: what was read stays
			}
			switch {
			case strings.HasSuffix(file, "io_serviced_recursive"), strings.HasSuffix(file, "io_serviced"):
				s.Blkio.IoServicedRecursive = entries
			case strings.HasSuffix(file, "io_service_bytes_recursive"), strings.HasSuffix(file, "io_service_bytes"):
				s.Blkio.IoServiceBytesRecursive = entries
			}
			if i == len(set)-1 {
				return nil
			}
		}
	}
	return nil
}

// blkioEntries reads "MAJOR:MINOR [OP] VALUE" lines ("Total N" lines
// skipped); nil when the file is missing or empty.
func blkioEntries(dir, file string) ([]BlkioEntry, error) {
	data, err := readFile(dir, file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []BlkioEntry
	for _, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ':' })
		if len(f) < 3 {
			if len(f) == 2 && f[0] == "Total" {
				continue
			}
			return nil, parseErr(dir, file, errorf("malformed line: %s", line))
		}
		var e BlkioEntry
		if e.Major, err = strconv.ParseUint(f[0], 10, 64); err != nil {
			return nil, parseErr(dir, file, err)
		}
		if e.Minor, err = strconv.ParseUint(f[1], 10, 64); err != nil {
			return nil, parseErr(dir, file, err)
		}
		vf := 2
		if len(f) == 4 {
			e.Op, vf = f[2], 3
		}
		if e.Value, err = strconv.ParseUint(f[vf], 10, 64); err != nil {
			return nil, parseErr(dir, file, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// hugetlbStatsV1 reads each huge page size's usage, peak and failcnt,
// from the reservation counters (hugetlb.<size>.rsvd.*, Linux 5.7) when
// the kernel has them.
func hugetlbStatsV1(dir string, s *Stats) error {
	if !exists(dir) {
		return nil
	}
	rsvd := ".rsvd"
	for _, size := range HugePageSizes() {
		var h Hugetlb
		var err error
		for {
			prefix := "hugetlb." + size + rsvd
			h.Usage, err = readUint(dir, prefix+".usage_in_bytes")
			if err != nil && rsvd != "" && errors.Is(err, os.ErrNotExist) {
				rsvd = ""
				continue
			}
			if err != nil {
				return err
			}
			if h.Max, err = readUint(dir, prefix+".max_usage_in_bytes"); err != nil {
				return err
			}
			if h.Failcnt, err = readUint(dir, prefix+".failcnt"); err != nil {
				return err
			}
			break
		}
		s.Hugetlb[size] = h
	}
	return nil
}

// statsV2 reads the v2 counters. A controller not enabled for the group
// (its files missing) counts nothing; other errors are collected.
func statsV2(dir string, s *Stats) error {
	var errs []error
	add := func(err error) {
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := pidsStatsV2(dir, s); err != nil {
		errs = append(errs, err)
	}
	add(memoryStatsV2(dir, s))
	add(ioStatsV2(dir, s))
	add(cpuStatsV2(dir, s))
	add(hugetlbStatsV2(dir, s))
	if len(errs) > 0 {
		return errorf("error while statting cgroup v2: %w", errors.Join(errs...))
	}
	return nil
}

// pidsStatsV2 reads pids.current and pids.max; without the pids
// controller, the processes in cgroup.procs are counted.
func pidsStatsV2(dir string, s *Stats) error {
	cur, err := readUint(dir, "pids.current")
	if errors.Is(err, os.ErrNotExist) {
		data, err := readFile(dir, "cgroup.procs")
		if errors.Is(err, unix.ENOTSUP) {
			data, err = readFile(dir, "cgroup.threads")
		}
		if err != nil {
			return err
		}
		s.Pids = Pids{Current: uint64(strings.Count(data, "\n"))}
		return nil
	}
	if err != nil {
		return err
	}
	return pidsMax(dir, cur, s)
}

// memoryStatsV2 reads memory.stat, memory.current/max/peak and
// memory.swap.*; Swap is memory+swap as on v1 (usage and limit summed).
func memoryStatsV2(dir string, s *Stats) error {
	if err := readKeyValues(dir, "memory.stat", func(k string, v uint64) { s.Memory.Raw[k] = v }); err != nil {
		return err
	}
	s.Memory.Cache = s.Memory.Raw["file"]
	var mem, swap MemoryEntry
	if err := memoryEntryV2(dir, "memory.", &mem); err != nil {
		if errors.Is(err, unix.ENOENT) && dir == v2Root {
			return rootMemoryFromMeminfo(s)
		}
		return err
	}
	s.Memory.Usage = mem
	if err := memoryEntryV2(dir, "memory.swap.", &swap); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		swap = MemoryEntry{} // no swap accounting
	}
	swap.Usage += mem.Usage
	if swap.Limit != math.MaxUint64 {
		swap.Limit += mem.Limit
	}
	swap.Max = 0
	s.Memory.Swap = swap
	return nil
}

// memoryEntryV2 reads <prefix>current, max and peak (Linux 5.19; 0
// before).
func memoryEntryV2(dir, prefix string, e *MemoryEntry) error {
	var err error
	if e.Usage, err = readUint(dir, prefix+"current"); err != nil {
		return err
	}
	if e.Limit, err = readUint(dir, prefix+"max"); err != nil {
		return err
	}
	if e.Max, err = readUint(dir, prefix+"peak"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// rootMemoryFromMeminfo: the root group has no memory.current; its use
// is anon+file of memory.stat, its swap from /proc/meminfo.
func rootMemoryFromMeminfo(s *Stats) error {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return err
	}
	var total, free uint64
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		var p *uint64
		switch k {
		case "SwapTotal":
			p = &total
		case "SwapFree":
			p = &free
		}
		if !ok || p == nil {
			continue
		}
		if *p, err = strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 10, 64); err != nil {
			return parseErr("", "/proc/meminfo", errors.New("bad value for "+k))
		}
	}
	s.Memory.Usage.Usage = s.Memory.Raw["anon"] + s.Memory.Raw["file"]
	s.Memory.Usage.Limit = math.MaxUint64
	s.Memory.Swap.Usage = (total-free)*1024 + s.Memory.Usage.Usage
	s.Memory.Swap.Limit = math.MaxUint64
	return nil
}

// ioStatsV2 reads io.stat: "MAJOR:MINOR rbytes=N wbytes=N rios=N wios=N
// ..." per device.
func ioStatsV2(dir string, s *Stats) error {
	data, err := readFile(dir, "io.stat")
	if err != nil {
		return err
	}
	var b Blkio
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		majS, minS, ok := strings.Cut(f[0], ":")
		if !ok || strings.Contains(minS, ":") {
			continue
		}
		maj, err := strconv.ParseUint(majS, 10, 64)
		if err != nil {
			return parseErr(dir, "io.stat", err)
		}
		min, err := strconv.ParseUint(minS, 10, 64)
		if err != nil {
			return parseErr(dir, "io.stat", err)
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.Contains(v, "=") {
				continue
			}
			var to *[]BlkioEntry
			op := "Read"
			switch k {
			case "rbytes":
				to = &b.IoServiceBytesRecursive
			case "wbytes":
				to, op = &b.IoServiceBytesRecursive, "Write"
			case "rios":
				to = &b.IoServicedRecursive
			case "wios":
				to, op = &b.IoServicedRecursive, "Write"
			case "cost.usage", "cost.wait", "cost.indebt", "cost.indelay":
				// io.cost counters: read (and checked) as runc does, not shown.
			default:
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return parseErr(dir, "io.stat", err)
			}
			if to != nil {
				*to = append(*to, BlkioEntry{Major: maj, Minor: min, Op: op, Value: n})
			}
		}
	}
	s.Blkio = b
	return nil
}

// cpuStatsV2 reads cpu.stat (µs, converted to ns).
func cpuStatsV2(dir string, s *Stats) error {
	return readKeyValues(dir, "cpu.stat", func(k string, v uint64) {
		switch k {
		case "usage_usec":
			s.CPU.Usage.Total = v * 1000
		case "user_usec":
			s.CPU.Usage.User = v * 1000
		case "system_usec":
			s.CPU.Usage.Kernel = v * 1000
		case "nr_periods":
			s.CPU.Throttling.Periods = v
		case "nr_throttled":
			s.CPU.Throttling.ThrottledPeriods = v
		case "throttled_usec":
			s.CPU.Throttling.ThrottledTime = v * 1000
		}
	})
}

// hugetlbStatsV2 reads each size's hugetlb.<size>[.rsvd].current and the
// "max" count of hugetlb.<size>.events (allocations refused at the limit).
func hugetlbStatsV2(dir string, s *Stats) error {
	rsvd := ".rsvd"
	for _, size := range HugePageSizes() {
		prefix := "hugetlb." + size
		var h Hugetlb
		var err error
		for {
			h.Usage, err = readUint(dir, prefix+rsvd+".current")
			if err != nil && rsvd != "" && errors.Is(err, os.ErrNotExist) {
				rsvd = ""
				continue
			}
			break
		}
		if err != nil {
			return err
		}
		if h.Failcnt, err = readKey(dir, prefix+".events", "max"); err != nil {
			return err
		}
		s.Hugetlb[size] = h
	}
	return nil
}
