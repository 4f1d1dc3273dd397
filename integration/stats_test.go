package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// statsJSON is one line of `stats --format json`.
type statsJSON struct {
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Status           string  `json:"status"`
	Pid              int     `json:"pid"`
	CPUUsageNs       uint64  `json:"cpu_usage_ns"`
	CPUPercent       float64 `json:"cpu_percent"`
	CPUPeriods       uint64  `json:"cpu_cfs_periods"`
	CPUThrottled     uint64  `json:"cpu_cfs_throttled_periods"`
	CPUThrottledNs   uint64  `json:"cpu_cfs_throttled_ns"`
	MemoryUsage      uint64  `json:"memory_usage_bytes"`
	MemoryLimit      uint64  `json:"memory_limit_bytes"`
	OOMKills         uint64  `json:"oom_kills"`
	PidsCurrent      uint64  `json:"pids_current"`
	PidsLimit        uint64  `json:"pids_limit"`
	BlockReadBytes   uint64  `json:"block_read_bytes"`
	BlockWriteBytess uint64  `json:"block_write_bytes"`
}

// stats runs `stats --no-stream --format json` for the IDs and parses
// one object a line.
func (b *bundle) stats(interval string, ids ...string) map[string]statsJSON {
	b.t.Helper()
	r := b.must(append([]string{"stats", "--no-stream", "--format", "json", "--interval", interval}, ids...)...)
	out := map[string]statsJSON{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var s statsJSON
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			b.t.Fatalf("stats --format json: %v\n%s", err, r.stdout)
		}
		out[s.ID] = s
	}
	return out
}

// cgCounter reads "key value" from a cgroup file such as cpu.stat.
func cgCounter(t *testing.T, file, key string) uint64 {
	t.Helper()
	for _, line := range strings.Split(readTrim(t, file), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("%s: %s: %v", file, line, err)
			}
			return n
		}
	}
	t.Fatalf("%s has no %s", file, key)
	return 0
}

func cgUint(t *testing.T, file string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(readTrim(t, file), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOperatorWatchesMemoryAndPidsInStats: a container fills 16 MiB of
// its /dev/shm; stats shows the memory use the kernel charges to its
// cgroup, its limit, and its process count, and the table shows them too.
func TestOperatorWatchesMemoryAndPidsInStats(t *testing.T) {
	b := newBundle(t, "stats-mem", "sleep", "1000")
	b.spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](20)},
	}
	b.write()
	b.mustDetached("run", "-d", "--bundle", b.dir, b.id)
	b.state(b.id)
	p := b.spec.Linux.CgroupsPath
	before := b.stats("10ms", b.id)[b.id]
	b.must("exec", b.id, "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=16")
	s := b.stats("10ms", b.id)[b.id]
	kernel := cgUint(t, cgFile(p, "memory", "memory.usage_in_bytes", "memory.current"))
	// At least the 16 MiB of the file (the rest of what was counted
	// before, the exec's own pages, may have been freed meanwhile).
	if s.MemoryUsage < 16<<20 || before.MemoryUsage > 8<<20 {
		t.Errorf("memory use %d after writing 16 MiB to /dev/shm, %d before", s.MemoryUsage, before.MemoryUsage)
	}
	if d := int64(kernel) - int64(s.MemoryUsage); d < -1<<20 || d > 1<<20 {
		t.Errorf("memory use %d, the kernel's file %d: want within 1 MiB", s.MemoryUsage, kernel)
	}
	if want := cgUint(t, cgFile(p, "memory", "memory.limit_in_bytes", "memory.max")); s.MemoryLimit != 64<<20 || s.MemoryLimit != want {
		t.Errorf("memory limit %d, want 64 MiB (kernel: %d)", s.MemoryLimit, want)
	}
	if want := cgUint(t, cgFile(p, "pids", "pids.current", "pids.current")); s.PidsCurrent != want || s.PidsCurrent != 1 || s.PidsLimit != 20 {
		t.Errorf("pids %d / %d, want 1 / 20 (kernel pids.current %d)", s.PidsCurrent, s.PidsLimit, want)
	}
	if s.Status != "running" || s.Name != b.id || s.Pid == 0 {
		t.Errorf("stats: status %q name %q pid %d", s.Status, s.Name, s.Pid)
	}
	table := b.must("stats", "--no-stream", "--interval", "10ms").stdout
	if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, b.id) || !strings.Contains(table, " / 64MiB") || !strings.Contains(table, "1 / 20") {
		t.Errorf("stats table:\n%s", table)
	}
	b.fail([]string{"stats", "--no-stream", "nosuch"}, `stats "nosuch": container does not exist`)
	b.must("delete", "--force", b.id)
	b.wantNothingLeft()
}

// TestOperatorSeesCPUThrottlingInStats: a CPU-bound process under a
// quota of 10% of one CPU: stats shows it near 10% and its throttled
// periods going up, as the kernel's cpu.stat counts them.
func TestOperatorSeesCPUThrottlingInStats(t *testing.T) {
	b := newBundle(t, "stats-cpu", "sh", "-c", "while :; do :; done")
	b.spec.Linux.Resources = &specs.LinuxResources{
		CPU: &specs.LinuxCPU{Quota: ptr[int64](10000), Period: ptr[uint64](100000)},
	}
	b.write()
	b.mustDetached("run", "-d", "--bundle", b.dir, b.id)
	b.state(b.id)
	p := b.spec.Linux.CgroupsPath
	first := b.stats("500ms", b.id)[b.id]
	second := b.stats("1s", b.id)[b.id]
	throttled := cgCounter(t, cgFile(p, "cpu", "cpu.stat", "cpu.stat"), "nr_throttled")
	if first.CPUThrottled == 0 || second.CPUThrottled <= first.CPUThrottled || throttled < second.CPUThrottled {
		t.Errorf("throttled periods %d then %d; kernel now %d: want rising", first.CPUThrottled, second.CPUThrottled, throttled)
	}
	if second.CPUThrottledNs <= first.CPUThrottledNs || second.CPUPeriods < second.CPUThrottled {
		t.Errorf("throttled time %d then %d ns, periods %d", first.CPUThrottledNs, second.CPUThrottledNs, second.CPUPeriods)
	}
	// 10% of a CPU; the machine is shared, so only an order of magnitude.
	if second.CPUPercent < 2 || second.CPUPercent > 20 {
		t.Errorf("CPU %% = %.1f under a 10%% quota", second.CPUPercent)
	}
	b.must("delete", "--force", b.id)
	b.wantNothingLeft()
}

// TestOperatorSeesOOMKillAsEventAndInStats: a process in the container
// exceeds its memory limit and the kernel's OOM killer kills it: `events`
// reports an "oom" event, and stats' OOM count goes up with the kernel's
// oom_kill counter, once per kill.
func TestOperatorSeesOOMKillAsEventAndInStats(t *testing.T) {
	b := newBundle(t, "stats-oom", "sleep", "1000")
	b.spec.Linux.Resources = &specs.LinuxResources{
		// No swap, so the hog meets the limit rather than swaps.
		Memory: &specs.LinuxMemory{Limit: ptr[int64](16 << 20), Swap: ptr[int64](16 << 20)},
	}
	b.write()
	b.mustDetached("run", "-d", "--bundle", b.dir, b.id)
	b.state(b.id)
	p := b.spec.Linux.CgroupsPath

	evFile := filepath.Join(t.TempDir(), "events")
	out, err := os.Create(evFile)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	events := exec.Command(binary, b.args("events", "--interval", "1h", b.id)...)
	events.Stdout, events.Stderr = out, out
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- events.Wait() }()
	defer func() {
		events.Process.Kill()
		<-done
	}()
	time.Sleep(300 * time.Millisecond) // events has registered for notifications

	oomFile := cgFile(p, "memory", "memory.oom_control", "memory.events")
	for i := uint64(1); i <= 2; i++ {
		// tail keeps the one endless "line" of /dev/zero in memory.
		r := b.ctr("exec", b.id, "tail", "/dev/zero")
		if r.code != 137 {
			t.Fatalf("exec tail /dev/zero: %s, want killed by SIGKILL (137)", r)
		}
		var lines int
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			data, _ := os.ReadFile(evFile)
			if lines = strings.Count(string(data), `{"type":"oom","id":"`+b.id+`"}`); uint64(lines) >= i {
				break
			}
		}
		if uint64(lines) != i {
			data, _ := os.ReadFile(evFile)
			t.Fatalf("after OOM kill %d: events printed %d oom events, want one per kill:\n%s", i, lines, data)
		}
		s := b.stats("10ms", b.id)[b.id]
		if kernel := cgCounter(t, oomFile, "oom_kill"); s.OOMKills != i || kernel != i {
			t.Errorf("after OOM kill %d: stats OOM kills %d, kernel oom_kill %d", i, s.OOMKills, kernel)
		}
	}
	b.must("delete", "--force", b.id)
	// events returns when the container stops.
	select {
	case err := <-done:
		done <- err
		if err != nil {
			data, _ := os.ReadFile(evFile)
			t.Errorf("events: %v\n%s", err, data)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("events still runs after delete")
	}
	b.wantNothingLeft()
}
