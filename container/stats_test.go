package container

import (
	"strings"
	"testing"
	"time"

	"github.com/ctr-lite/ctr-lite/cgroups"
)

func TestSampleFill(t *testing.T) {
	for _, tc := range []struct {
		name              string
		st                cgroups.Stats
		memLimit, pidsMax uint64
		read, write       uint64
	}{
		{name: "v1 unlimited", st: cgroups.Stats{Memory: cgroups.Memory{Usage: cgroups.MemoryEntry{Limit: 9223372036854771712}}}},
		{name: "v2 max", st: cgroups.Stats{Memory: cgroups.Memory{Usage: cgroups.MemoryEntry{Limit: ^uint64(0)}}}},
		{name: "limits", st: cgroups.Stats{Memory: cgroups.Memory{Usage: cgroups.MemoryEntry{Limit: 64 << 20}}, Pids: cgroups.Pids{Limit: 10}},
			memLimit: 64 << 20, pidsMax: 10},
		{name: "block I/O by op, any case, Total not counted", st: cgroups.Stats{Blkio: cgroups.Blkio{IoServiceBytesRecursive: []cgroups.BlkioEntry{
			{Op: "Read", Value: 1}, {Op: "read", Value: 2}, {Op: "Write", Value: 4}, {Op: "Total", Value: 7}}}},
			read: 3, write: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Sample
			s.fill(&tc.st)
			if s.MemoryLimit != tc.memLimit || s.PidsLimit != tc.pidsMax || s.BlockReadBytes != tc.read || s.BlockWriteBytes != tc.write {
				t.Errorf("limit %d pids %d read %d write %d", s.MemoryLimit, s.PidsLimit, s.BlockReadBytes, s.BlockWriteBytes)
			}
		})
	}
}

func TestSetCPUPercent(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name string
		prev *Sample
		now  Sample
		want float64
	}{
		{"no previous sample", nil, Sample{ID: "a", Time: t0, CPUUsageNs: 5}, 0},
		{"half a CPU", &Sample{ID: "a", Time: t0, CPUUsageNs: 1e9}, Sample{ID: "a", Time: t0.Add(2 * time.Second), CPUUsageNs: 2e9}, 50},
		{"two CPUs", &Sample{ID: "a", Time: t0}, Sample{ID: "a", Time: t0.Add(time.Second), CPUUsageNs: 2e9}, 200},
		{"another container", &Sample{ID: "b", Time: t0}, Sample{ID: "a", Time: t0.Add(time.Second), CPUUsageNs: 2e9}, 0},
		{"counter went back (recreated)", &Sample{ID: "a", Time: t0, CPUUsageNs: 9e9}, Sample{ID: "a", Time: t0.Add(time.Second), CPUUsageNs: 1e9}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.now.SetCPUPercent(tc.prev)
			if tc.now.CPUPercent != tc.want {
				t.Errorf("CPUPercent = %v, want %v", tc.now.CPUPercent, tc.want)
			}
		})
	}
}

func TestWritePrometheus(t *testing.T) {
	var b strings.Builder
	err := WritePrometheus(&b, []*Sample{
		{ID: "a", Name: "we\"b\\\n", CPUUsageNs: 1500000000, MemoryLimit: 0, Status: "running"},
		{ID: "b", Name: "b", MemoryLimit: 1 << 20, Status: "stopped"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE container_cpu_usage_seconds_total counter\n",
		`container_cpu_usage_seconds_total{id="a",name="we\"b\\\n"} 1.5` + "\n",
		`container_memory_limit_bytes{id="b",name="b"} 1048576` + "\n",
		`container_running{id="a",name="we\"b\\\n"} 1` + "\n",
		`container_running{id="b",name="b"} 0` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, `container_memory_limit_bytes{id="a"`) {
		t.Errorf("a series for a limit that is not set:\n%s", out)
	}
}

// TestPrometheusEscapes holds escapeLabel and escapeHelp to the
// strings.Replacers they replaced (kept out of the binary for size).
func TestPrometheusEscapes(t *testing.T) {
	label := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	help := strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	for _, v := range []string{"", "web", `a"b`, `a\b`, "a\nb", `\"`, "\\\n\"", `\\n`, "\"\n\\\\"} {
		if got := escapeLabel(v); got != label.Replace(v) {
			t.Errorf("escapeLabel(%q) = %q, want %q", v, got, label.Replace(v))
		}
		if got := escapeHelp(v); got != help.Replace(v) {
			t.Errorf("escapeHelp(%q) = %q, want %q", v, got, help.Replace(v))
		}
	}
}
