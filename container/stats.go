package container

import (
	"errors"
	"strings"
	"time"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/step"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Sample is one container's counters at one moment, as `stats` shows
// them: read from its cgroup (cpuacct.*/cpu.stat, memory.*, pids.*,
// blkio.*/io.stat, memory.oom_control/memory.events). Times are in
// nanoseconds, sizes in bytes; a limit of 0 means none is set.
type Sample struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Status string    `json:"status"`
	Pid    int       `json:"pid,omitempty"`
	Time   time.Time `json:"time"`
	// Cgroup is the container's cgroup path (linux.cgroupsPath as made).
	Cgroup string `json:"cgroup"`

	CPUUsageNs      uint64    `json:"cpu_usage_ns"`
	CPUUserNs       uint64    `json:"cpu_user_ns"`
	CPUSystemNs     uint64    `json:"cpu_system_ns"`
	CPUPeriods      uint64    `json:"cpu_cfs_periods"`
	CPUThrottled    uint64    `json:"cpu_cfs_throttled_periods"`
	CPUThrottledNs  uint64    `json:"cpu_cfs_throttled_ns"`
	MemoryUsage     uint64    `json:"memory_usage_bytes"`
	MemoryLimit     uint64    `json:"memory_limit_bytes,omitempty"`
	MemoryMaxUsage  uint64    `json:"memory_max_usage_bytes,omitempty"`
	OOMKills        uint64    `json:"oom_kills"`
	PidsCurrent     uint64    `json:"pids_current"`
	PidsLimit       uint64    `json:"pids_limit,omitempty"`
	BlockReadBytes  uint64    `json:"block_read_bytes"`
	BlockWriteBytes uint64    `json:"block_write_bytes"`
	Created         time.Time `json:"created"`
	// CPUPercent is set by SetCPUPercent.
	CPUPercent float64 `json:"cpu_percent"`
}

// nameAnnotations are the annotations where the managers above a runtime
// put a container's human name (CRI containerd, CRI-O, nerdctl).
var nameAnnotations = []string{
	"io.kubernetes.cri.container-name",
	"io.kubernetes.container.name",
	"nerdctl/name",
}

// noLimit is the smallest value read as "no limit": v1 writes
// PAGE_COUNTER_MAX pages (9223372036854771712 bytes on 4 KiB pages) and
// the library reads v2's "max" as MaxUint64.
const noLimit = 1 << 62

// Sample reads one container's counters now. A stopped container whose
// cgroup is gone reads as zeros; one that does not exist is ErrNotExist.
func (r Root) Sample(id string) (*Sample, error) {
	return r.sample(r.runner("stats"), id)
}

// sample is Sample with its reads steps of run (--explain).
func (r Root) sample(run *step.Runner, id string) (*Sample, error) {
	s, err := r.loadExplained(run, id)
	if err != nil {
		return nil, err
	}
	status := r.statusExplained(run, s)
	out := &Sample{ID: id, Name: id, Status: string(status), Time: time.Now(), Created: s.Created,
		Cgroup: s.CgroupPath}
	if status != specs.StateStopped {
		out.Pid = s.Pid
	}
	if s.Config != nil {
		for _, a := range nameAnnotations {
			if v := s.Config.Annotations[a]; v != "" {
				out.Name = v
				break
			}
		}
	}
	m, err := s.cgroup()
	if err != nil {
		return nil, err
	}
	if !m.Exists() {
		if status == specs.StateStopped {
			return out, nil
		}
		return nil, errorf("cgroup %s does not exist", s.CgroupPath)
	}
	var st *cgroups.Stats
	if err := runRead(run, m.StatsStep(&st)); err != nil {
		return nil, err
	}
	out.fill(st)
	// A host without oom_kill counters (v1 before Linux 4.13) reads 0.
	run.RunOne(step.Step{Op: "read", Args: "oom_kill of " + m.OOMFile(), Why: "how many processes the OOM killer killed in the group",
		Do: func() error { out.OOMKills, _ = m.OOMKills(); return nil }})
	return out, nil
}

// fill copies the cgroup's counters into s.
func (s *Sample) fill(st *cgroups.Stats) {
	s.CPUUsageNs = st.CPU.Usage.Total
	s.CPUUserNs = st.CPU.Usage.User
	s.CPUSystemNs = st.CPU.Usage.Kernel
	s.CPUPeriods = st.CPU.Throttling.Periods
	s.CPUThrottled = st.CPU.Throttling.ThrottledPeriods
	s.CPUThrottledNs = st.CPU.Throttling.ThrottledTime
	s.MemoryUsage = st.Memory.Usage.Usage
	s.MemoryMaxUsage = st.Memory.Usage.Max
	if l := st.Memory.Usage.Limit; l < noLimit {
		s.MemoryLimit = l
	}
	s.PidsCurrent = st.Pids.Current
	if l := st.Pids.Limit; l < noLimit {
		s.PidsLimit = l
	}
	for _, e := range st.Blkio.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			s.BlockReadBytes += e.Value
		case "write":
			s.BlockWriteBytes += e.Value
		}
	}
}

// SetCPUPercent sets CPUPercent: the CPU time used since prev per
// wall-clock time, in percent of one CPU (200 = two CPUs busy), as top(1)
// counts; 0 without a previous sample of the same container.
func (s *Sample) SetCPUPercent(prev *Sample) {
	s.CPUPercent = 0
	if prev == nil || prev.ID != s.ID || !s.Time.After(prev.Time) || s.CPUUsageNs < prev.CPUUsageNs {
		return
	}
	s.CPUPercent = float64(s.CPUUsageNs-prev.CPUUsageNs) / float64(s.Time.Sub(prev.Time).Nanoseconds()) * 100
}

// Samples reads the counters of every container under the root, in ID
// order; one deleted meanwhile is skipped.
func (r Root) Samples() ([]*Sample, error) {
	run := r.runner("stats")
	ids, err := r.listIDs(run)
	if err != nil {
		return nil, err
	}
	out := make([]*Sample, 0, len(ids))
	for _, id := range ids {
		s, err := r.sample(run, id)
		if errors.Is(err, ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, errorf("container %q: %w", id, err)
		}
		out = append(out, s)
	}
	return out, nil
}
