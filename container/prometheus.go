package container

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// metric is one family of the Prometheus exposition: its name, type,
// help, and how to read its value from a sample (ok false: no series for
// that container, e.g. a limit that is not set).
type metric struct {
	name, typ, help string
	value           func(s *Sample) (v float64, ok bool)
}

func always(f func(s *Sample) float64) func(s *Sample) (float64, bool) {
	return func(s *Sample) (float64, bool) { return f(s), true }
}

func nonzero(f func(s *Sample) uint64) func(s *Sample) (float64, bool) {
	return func(s *Sample) (float64, bool) { v := f(s); return float64(v), v != 0 }
}

const nsPerSecond = 1e9

// metrics are the families WritePrometheus writes, with cAdvisor's names
// and units (seconds, bytes) where it has one.
var metrics = []metric{
	{"container_cpu_usage_seconds_total", "counter", "CPU time used by the container's cgroup (cpuacct.usage, cpu.stat usage_usec), seconds.",
		always(func(s *Sample) float64 { return float64(s.CPUUsageNs) / nsPerSecond })},
	{"container_cpu_user_seconds_total", "counter", "CPU time used in user mode, seconds.",
		always(func(s *Sample) float64 { return float64(s.CPUUserNs) / nsPerSecond })},
	{"container_cpu_system_seconds_total", "counter", "CPU time used in kernel mode, seconds.",
		always(func(s *Sample) float64 { return float64(s.CPUSystemNs) / nsPerSecond })},
	{"container_cpu_cfs_periods_total", "counter", "CFS enforcement periods elapsed with a CPU quota set (cpu.stat nr_periods).",
		always(func(s *Sample) float64 { return float64(s.CPUPeriods) })},
	{"container_cpu_cfs_throttled_periods_total", "counter", "CFS periods in which the CPU quota ran out (cpu.stat nr_throttled).",
		always(func(s *Sample) float64 { return float64(s.CPUThrottled) })},
	{"container_cpu_cfs_throttled_seconds_total", "counter", "Time the container's processes were throttled by the CPU quota (cpu.stat throttled_time, throttled_usec), seconds.",
		always(func(s *Sample) float64 { return float64(s.CPUThrottledNs) / nsPerSecond })},
	{"container_memory_usage_bytes", "gauge", "Memory used by the container's cgroup, page cache included (memory.usage_in_bytes, memory.current), bytes.",
		always(func(s *Sample) float64 { return float64(s.MemoryUsage) })},
	{"container_memory_max_usage_bytes", "gauge", "Highest memory use recorded (memory.max_usage_in_bytes, memory.peak), bytes; absent where the kernel keeps none.",
		nonzero(func(s *Sample) uint64 { return s.MemoryMaxUsage })},
	{"container_memory_limit_bytes", "gauge", "Memory limit (memory.limit_in_bytes, memory.max), bytes; absent when there is none.",
		nonzero(func(s *Sample) uint64 { return s.MemoryLimit })},
	{"container_oom_events_total", "counter", "Processes killed by the kernel's OOM killer in the container (memory.oom_control, memory.events oom_kill).",
		always(func(s *Sample) float64 { return float64(s.OOMKills) })},
	{"container_pids_current", "gauge", "Processes and threads in the container (pids.current).",
		always(func(s *Sample) float64 { return float64(s.PidsCurrent) })},
	{"container_pids_limit", "gauge", "Limit on processes and threads (pids.max); absent when there is none.",
		nonzero(func(s *Sample) uint64 { return s.PidsLimit })},
	{"container_fs_reads_bytes_total", "counter", "Bytes read from block devices, all devices (blkio.*io_service_bytes_recursive, io.stat rbytes).",
		always(func(s *Sample) float64 { return float64(s.BlockReadBytes) })},
	{"container_fs_writes_bytes_total", "counter", "Bytes written to block devices, all devices (blkio.*io_service_bytes_recursive, io.stat wbytes).",
		always(func(s *Sample) float64 { return float64(s.BlockWriteBytes) })},
	{"container_start_time_seconds", "gauge", "When the container was created, seconds since the Unix epoch.",
		always(func(s *Sample) float64 { return float64(s.Created.UnixNano()) / nsPerSecond })},
	{"container_running", "gauge", "1 if the container's process runs (status running or paused), else 0.",
		always(func(s *Sample) float64 {
			if s.Status == "running" || s.Status == "paused" {
				return 1
			}
			return 0
		})},
}

// WritePrometheus writes ss in the Prometheus text exposition format
// (version 0.0.4): each family's HELP and TYPE, then one series per
// container labelled with its id and name.
func WritePrometheus(w io.Writer, ss []*Sample) error {
	bw := bufio.NewWriter(w)
	for _, m := range metrics {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", m.name, escapeHelp(m.help), m.name, m.typ)
		for _, s := range ss {
			v, ok := m.value(s)
			if !ok {
				continue
			}
			fmt.Fprintf(bw, "%s{id=\"%s\",name=\"%s\"} %s\n", m.name, escapeLabel(s.ID), escapeLabel(s.Name),
				strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	return bw.Flush()
}

// escapeLabel escapes a label value: backslash, double quote, newline.
func escapeLabel(v string) string {
	return strings.ReplaceAll(escapeHelp(v), `"`, `\"`)
}

// escapeHelp escapes HELP text: backslash and newline. The backslashes
// first, so the ones added after stay single (a strings.Replacer would
// link 9 KiB of its own for this).
func escapeHelp(v string) string {
	return strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "\n", `\n`)
}
