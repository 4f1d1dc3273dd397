package integration

import (
	"debug/buildinfo"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// TestOperatorScrapesPrometheusMetrics: `stats --format prometheus` is
// what node_exporter's textfile collector reads: the real Prometheus
// parser takes it, every family has its HELP and TYPE, each container is
// one series labelled with its id and name (from the CRI annotation when
// a manager set one), and the values are the ones `stats` shows.
func TestOperatorScrapesPrometheusMetrics(t *testing.T) {
	web := newBundle(t, "prom-web", "sleep", "1000")
	web.spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](48 << 20)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](30)},
	}
	web.spec.Annotations = map[string]string{"io.kubernetes.cri.container-name": `web "front"`}
	web.write()
	web.mustDetached("run", "-d", "--bundle", web.dir, web.id)
	web.state(web.id)
	// A second container under the same --root, with no limits.
	db := newBundle(t, "prom-db", "sleep", "1000")
	db.root = web.root
	db.mustDetached("run", "-d", "--bundle", db.dir, db.id)
	db.state(db.id)

	r := web.must("stats", "--format", "prometheus")
	var parser expfmt.TextParser
	families, err := parser.TextToMetricFamilies(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("the Prometheus parser refuses the output: %v\n%s", err, r.stdout)
	}
	types := map[string]dto.MetricType{
		"container_cpu_usage_seconds_total":         dto.MetricType_COUNTER,
		"container_cpu_cfs_throttled_periods_total": dto.MetricType_COUNTER,
		"container_cpu_cfs_throttled_seconds_total": dto.MetricType_COUNTER,
		"container_memory_usage_bytes":              dto.MetricType_GAUGE,
		"container_memory_limit_bytes":              dto.MetricType_GAUGE,
		"container_oom_events_total":                dto.MetricType_COUNTER,
		"container_pids_current":                    dto.MetricType_GAUGE,
		"container_pids_limit":                      dto.MetricType_GAUGE,
		"container_fs_reads_bytes_total":            dto.MetricType_COUNTER,
		"container_start_time_seconds":              dto.MetricType_GAUGE,
	}
	for name, typ := range types {
		f := families[name]
		if f == nil {
			t.Errorf("no %s", name)
			continue
		}
		if f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("%s: type %s help %q, want %s with help", name, f.GetType(), f.GetHelp(), typ)
		}
	}
	// value of a family for one container, by its labels.
	value := func(name, id string) (float64, bool) {
		for _, m := range families[name].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["id"] != id {
				continue
			}
			if id == web.id && labels["name"] != `web "front"` || id == db.id && labels["name"] != db.id {
				t.Errorf("%s{id=%q}: name label %q", name, id, labels["name"])
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue(), true
			}
			return m.GetGauge().GetValue(), true
		}
		return 0, false
	}
	for _, id := range []string{web.id, db.id} {
		for _, name := range []string{"container_cpu_usage_seconds_total", "container_memory_usage_bytes", "container_pids_current", "container_oom_events_total"} {
			if _, ok := value(name, id); !ok {
				t.Errorf("%s has no series for %s", name, id)
			}
		}
	}
	if v, _ := value("container_memory_limit_bytes", web.id); v != 48<<20 {
		t.Errorf("container_memory_limit_bytes{web} = %v, want %d", v, 48<<20)
	}
	if v, _ := value("container_pids_limit", web.id); v != 30 {
		t.Errorf("container_pids_limit{web} = %v, want 30", v)
	}
	if _, ok := value("container_memory_limit_bytes", db.id); ok {
		t.Errorf("container_memory_limit_bytes has a series for %s, which has no limit", db.id)
	}
	if v, _ := value("container_pids_current", web.id); v != 1 {
		t.Errorf("container_pids_current{web} = %v, want 1", v)
	}
	s := web.stats("10ms", web.id)[web.id]
	if v, _ := value("container_cpu_usage_seconds_total", web.id); v <= 0 || v > float64(s.CPUUsageNs)/1e9 {
		t.Errorf("container_cpu_usage_seconds_total{web} = %v, stats then says %d ns", v, s.CPUUsageNs)
	}

	web.must("delete", "--force", web.id)
	db.must("delete", "--force", db.id)
	web.wantNothingLeft()
	db.wantNothingLeft()
}

// TestPrometheusParserIsNotLinkedIntoCtrLite: the parser the tests use
// is a test-only dependency; the binary's build information lists every
// module linked in.
func TestPrometheusParserIsNotLinkedIntoCtrLite(t *testing.T) {
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range info.Deps {
		if strings.HasPrefix(d.Path, "github.com/prometheus/") || strings.HasPrefix(d.Path, "google.golang.org/protobuf") {
			t.Errorf("ctr-lite links %s %s", d.Path, d.Version)
		}
	}
}
