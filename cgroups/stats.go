package cgroups

import (
	"fmt"

	lcg "github.com/opencontainers/cgroups"
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

// Stats reads the cgroup's counters.
func (m *Manager) Stats() (*Stats, error) {
	if m.rootless && m.lib == nil {
		// A rootless container without a cgroup: runc's stats are
		// all zero, not an error.
		return &Stats{Hugetlb: map[string]Hugetlb{}}, nil
	}
	if !m.Exists() {
		return nil, fmt.Errorf("cgroup %s does not exist", m.path)
	}
	s, err := m.lib.GetStats()
	if err != nil {
		return nil, fmt.Errorf("stats of cgroup %s: %w", m.path, err)
	}
	return convertStats(s), nil
}

func convertStats(s *lcg.Stats) *Stats {
	out := &Stats{Hugetlb: map[string]Hugetlb{}}
	c := s.CpuStats
	out.CPU = CPU{
		Usage: CPUUsage{
			Total:  c.CpuUsage.TotalUsage,
			Percpu: c.CpuUsage.PercpuUsage,
			Kernel: c.CpuUsage.UsageInKernelmode,
			User:   c.CpuUsage.UsageInUsermode,
		},
		Throttling: Throttling{
			Periods:          c.ThrottlingData.Periods,
			ThrottledPeriods: c.ThrottlingData.ThrottledPeriods,
			ThrottledTime:    c.ThrottlingData.ThrottledTime,
		},
	}
	mem := func(d lcg.MemoryData) MemoryEntry {
		return MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
	}
	ms := s.MemoryStats
	out.Memory = Memory{
		Cache:  ms.Cache,
		Usage:  mem(ms.Usage),
		Swap:   mem(ms.SwapUsage),
		Kernel: mem(ms.KernelUsage),
		Raw:    ms.Stats,
	}
	out.Pids = Pids{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit}
	blk := func(in []lcg.BlkioStatEntry) []BlkioEntry {
		var o []BlkioEntry
		for _, e := range in {
			o = append(o, BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
		}
		return o
	}
	out.Blkio = Blkio{
		IoServiceBytesRecursive: blk(s.BlkioStats.IoServiceBytesRecursive),
		IoServicedRecursive:     blk(s.BlkioStats.IoServicedRecursive),
	}
	for k, h := range s.HugetlbStats {
		out.Hugetlb[k] = Hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	return out
}
