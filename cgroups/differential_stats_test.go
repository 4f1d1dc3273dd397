package cgroups

// Stats and paths read as runc's library reads them (see
// differential_test.go): the same stat files give the same Stats, and
// the same cgroup path names the same directories on this host.

import (
	"cmp"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	lcg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fromLib converts the library's stats to ours, as ctr-lite did when it
// used the library.
func fromLib(s *lcg.Stats) *Stats {
	out := &Stats{Hugetlb: map[string]Hugetlb{}}
	c := s.CpuStats
	out.CPU = CPU{
		Usage: CPUUsage{Total: c.CpuUsage.TotalUsage, Percpu: c.CpuUsage.PercpuUsage,
			Kernel: c.CpuUsage.UsageInKernelmode, User: c.CpuUsage.UsageInUsermode},
		Throttling: Throttling{Periods: c.ThrottlingData.Periods, ThrottledPeriods: c.ThrottlingData.ThrottledPeriods,
			ThrottledTime: c.ThrottlingData.ThrottledTime},
	}
	mem := func(d lcg.MemoryData) MemoryEntry {
		return MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
	}
	ms := s.MemoryStats
	out.Memory = Memory{Cache: ms.Cache, Usage: mem(ms.Usage), Swap: mem(ms.SwapUsage), Kernel: mem(ms.KernelUsage), Raw: ms.Stats}
	out.Pids = Pids{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit}
	blk := func(in []lcg.BlkioStatEntry) []BlkioEntry {
		var o []BlkioEntry
		for _, e := range in {
			o = append(o, BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
		}
		return o
	}
	out.Blkio = Blkio{IoServiceBytesRecursive: blk(s.BlkioStats.IoServiceBytesRecursive), IoServicedRecursive: blk(s.BlkioStats.IoServicedRecursive)}
	for k, h := range s.HugetlbStats {
		out.Hugetlb[k] = Hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	return out
}

// sortBlkio orders the per-device entries (the library reads io.stat
// through a map).
func sortBlkio(s *Stats) {
	by := func(a, b BlkioEntry) int {
		return cmp.Or(cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor), cmp.Compare(a.Op, b.Op))
	}
	slices.SortStableFunc(s.Blkio.IoServiceBytesRecursive, by)
	slices.SortStableFunc(s.Blkio.IoServicedRecursive, by)
}

var v1Stats = map[string]fixture{
	"memory": {
		"memory.stat":           "cache 4096\nrss 8192\nmapped_file 0\ntotal_cache 4096\ntotal_rss 8192\n",
		"memory.usage_in_bytes": "12288\n", "memory.max_usage_in_bytes": "65536\n", "memory.failcnt": "3\n",
		"memory.limit_in_bytes":       "67108864\n",
		"memory.memsw.usage_in_bytes": "16384\n", "memory.memsw.max_usage_in_bytes": "70000\n", "memory.memsw.failcnt": "1\n",
		"memory.memsw.limit_in_bytes": "134217728\n",
		"memory.kmem.usage_in_bytes":  "1024\n", "memory.kmem.max_usage_in_bytes": "2048\n", "memory.kmem.failcnt": "0\n",
		"memory.kmem.limit_in_bytes":     "9223372036854771712\n",
		"memory.kmem.tcp.usage_in_bytes": "0\n", "memory.kmem.tcp.max_usage_in_bytes": "0\n", "memory.kmem.tcp.failcnt": "0\n",
		"memory.kmem.tcp.limit_in_bytes": "9223372036854771712\n",
		"memory.use_hierarchy":           "1\n",
	},
	"cpu": {"cpu.stat": "nr_periods 10\nnr_throttled 4\nthrottled_time 123456\nnr_bursts 0\nburst_time 0\n"},
	"cpuacct": {
		"cpuacct.stat": "user 150\nsystem 25\n", "cpuacct.usage": "1750000000\n",
		"cpuacct.usage_percpu": "1000000000 750000000 \n",
	},
	"pids":  {"pids.current": "3\n", "pids.max": "max\n"},
	"blkio": {},
	"hugetlb": {
		"hugetlb.2MB.rsvd.usage_in_bytes": "2097152\n", "hugetlb.2MB.rsvd.max_usage_in_bytes": "4194304\n", "hugetlb.2MB.rsvd.failcnt": "1\n",
		"hugetlb.2MB.usage_in_bytes": "1\n", "hugetlb.2MB.max_usage_in_bytes": "1\n", "hugetlb.2MB.failcnt": "1\n",
		"hugetlb.1GB.rsvd.usage_in_bytes": "0\n", "hugetlb.1GB.rsvd.max_usage_in_bytes": "0\n", "hugetlb.1GB.rsvd.failcnt": "0\n",
	},
}

const (
	blkStat  = "8:0 Read 100\n8:0 Write 200\n8:0 Sync 300\n8:0 Async 0\n8:0 Total 300\n253:1 Read 5\nTotal 305\n"
	blkBytes = "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n"
	blkOther = "8:0 77\n"
)

// blkioSet fills a counter set's files; the last two are served and
// bytes served.
func blkioSet(names ...string) fixture {
	f := fixture{}
	for i, n := range names {
		switch i {
		case len(names) - 2:
			f[n] = blkStat
		case len(names) - 1:
			f[n] = blkBytes
		default:
			f[n] = blkOther
		}
	}
	return f
}

func merge(a, b fixture) fixture {
	c := maps.Clone(a)
	maps.Copy(c, b)
	return c
}

func TestStatsReadWhatTheLibraryReads(t *testing.T) {
	setTestMode(t)
	bfqDebug, cfq := blkioFiles[0], blkioFiles[2]
	v1 := []struct {
		name string
		with map[string]fixture // controller -> files replacing the defaults
	}{
		{"all counters, throttle only", map[string]fixture{"blkio": blkioSet(blkioFiles[4]...)}},
		{"blkio: BFQ debug", map[string]fixture{"blkio": blkioSet(bfqDebug...)}},
		{"blkio: BFQ", map[string]fixture{"blkio": blkioSet(blkioFiles[1]...)}},
		{"blkio: CFQ", map[string]fixture{"blkio": blkioSet(cfq...)}},
		{"blkio: throttle recursive", map[string]fixture{"blkio": blkioSet(blkioFiles[3]...)}},
		{"blkio: CFQ cut short by an empty counter", map[string]fixture{"blkio": blkioSet(cfq...).with(cfq[3], "")}},
		{"blkio: BFQ debug with empty first file", map[string]fixture{"blkio": merge(blkioSet(bfqDebug...).with(bfqDebug[0], ""), blkioSet(blkioFiles[3]...))}},
		{"blkio: malformed", map[string]fixture{"blkio": blkioSet(blkioFiles[4]...).with(blkioFiles[4][0], "8:0 x 1\n")}},
		{"blkio: none", nil},
		{"memory: no memsw, no kmem limit", map[string]fixture{"memory": v1Stats["memory"].with(
			"memory.memsw.usage_in_bytes", "<none>", "memory.kmem.limit_in_bytes", "<none>")}},
		{"memory: no memory.stat", map[string]fixture{"memory": v1Stats["memory"].with("memory.stat", "<none>")}},
		{"memory: no use_hierarchy", map[string]fixture{"memory": v1Stats["memory"].with("memory.use_hierarchy", "<none>")}},
		{"memory: memsw half there", map[string]fixture{"memory": v1Stats["memory"].with("memory.memsw.failcnt", "<none>")}},
		{"memory: bad stat line", map[string]fixture{"memory": v1Stats["memory"].with("memory.stat", "cache 1\nrss\n")}},
		{"memory: negative counter", map[string]fixture{"memory": v1Stats["memory"].with("memory.failcnt", "-1\n")}},
		{"hugetlb: no rsvd", map[string]fixture{"hugetlb": {
			"hugetlb.2MB.usage_in_bytes": "8\n", "hugetlb.2MB.max_usage_in_bytes": "9\n", "hugetlb.2MB.failcnt": "2\n",
			"hugetlb.1GB.usage_in_bytes": "0\n", "hugetlb.1GB.max_usage_in_bytes": "0\n", "hugetlb.1GB.failcnt": "0\n"}}},
		{"pids: limited", map[string]fixture{"pids": {"pids.current": "3\n", "pids.max": "20\n"}}},
		{"pids: no pids.max", map[string]fixture{"pids": {"pids.current": "3\n"}}},
		{"cpu: no cpu.stat", map[string]fixture{"cpu": {}}},
		{"cpuacct: malformed stat", map[string]fixture{"cpuacct": v1Stats["cpuacct"].with("cpuacct.stat", "user 1\n")}},
		{"cpuacct: empty percpu", map[string]fixture{"cpuacct": v1Stats["cpuacct"].with("cpuacct.usage_percpu", "\n")}},
	}
	for _, tc := range v1 {
		t.Run("v1/"+tc.name, func(t *testing.T) {
			dirs := map[string]string{}
			for ctrl, f := range v1Stats {
				if w, ok := tc.with[ctrl]; ok {
					f = w
				}
				dirs[ctrl] = f.make(t)
			}
			m, err := fs.NewManager(&lcg.Cgroup{Resources: &lcg.Resources{}}, maps.Clone(dirs))
			if err != nil {
				t.Fatal(err)
			}
			ls, libErr := m.GetStats()
			ours := &Stats{Hugetlb: map[string]Hugetlb{}, Memory: Memory{Raw: map[string]uint64{}}}
			ourErr := statsV1(dirs, ours)
			compareStats(t, ls, libErr, ours, ourErr)
		})
	}

	v2 := fixture{
		"cgroup.procs": "1\n2\n",
		"pids.current": "2\n", "pids.max": "100\n",
		"memory.stat":    "anon 8192\nfile 4096\nkernel 1024\nsock 0\n",
		"memory.current": "12288\n", "memory.max": "67108864\n", "memory.peak": "20000\n",
		"memory.swap.current": "4096\n", "memory.swap.max": "max\n", "memory.swap.peak": "8192\n",
		"io.stat":                  "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=2 rios=3 wios=4 cost.usage=5 cost.wait=6\n",
		"cpu.stat":                 "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\nthrottled_usec 300\nnr_bursts 1\nburst_usec 9\n",
		"hugetlb.2MB.rsvd.current": "2097152\n", "hugetlb.2MB.events": "max 4\n",
		"hugetlb.1GB.rsvd.current": "0\n", "hugetlb.1GB.events": "max 0\n",
	}
	v2cases := []struct {
		name  string
		files fixture
	}{
		{"all counters", v2},
		{"no pids controller", v2.with("pids.current", "<none>", "pids.max", "<none>")},
		{"pids: no pids.max", v2.with("pids.max", "<none>")},
		{"no swap accounting", v2.with("memory.swap.current", "<none>", "memory.swap.max", "<none>", "memory.swap.peak", "<none>")},
		{"swap limited, no peaks", v2.with("memory.swap.max", "1048576\n", "memory.peak", "<none>", "memory.swap.peak", "<none>")},
		{"memory: no memory.max", v2.with("memory.max", "<none>")},
		{"memory: no memory controller", v2.with("memory.stat", "<none>", "memory.current", "<none>")},
		{"memory: bad stat", v2.with("memory.stat", "anon x\n")},
		{"io: no io.stat", v2.with("io.stat", "<none>")},
		{"io: malformed key", v2.with("io.stat", "8:0:1 rbytes=1\nfoo rbytes=2\n8:1 rbytes=x=1 wbytes=3\n")},
		{"io: bad number", v2.with("io.stat", "8:0 rbytes=x\n")},
		{"cpu: no cpu.stat", v2.with("cpu.stat", "<none>")},
		{"hugetlb: no rsvd", v2.with("hugetlb.2MB.rsvd.current", "<none>", "hugetlb.1GB.rsvd.current", "<none>",
			"hugetlb.2MB.current", "8\n", "hugetlb.1GB.current", "0\n")},
		{"hugetlb: no events", v2.with("hugetlb.2MB.events", "<none>")},
	}
	for _, tc := range v2cases {
		t.Run("v2/"+tc.name, func(t *testing.T) {
			dir := tc.files.make(t)
			m, err := fs2.NewManager(&lcg.Cgroup{Resources: &lcg.Resources{}}, dir)
			if err != nil {
				t.Fatal(err)
			}
			ls, libErr := m.GetStats()
			ours := &Stats{Hugetlb: map[string]Hugetlb{}, Memory: Memory{Raw: map[string]uint64{}}}
			ourErr := statsV2(dir, ours)
			compareStats(t, ls, libErr, ours, ourErr)
		})
	}
}

func compareStats(t *testing.T, ls *lcg.Stats, libErr error, ours *Stats, ourErr error) {
	t.Helper()
	if (libErr == nil) != (ourErr == nil) {
		t.Fatalf("library error %v, ours %v", libErr, ourErr)
	}
	if libErr != nil {
		return
	}
	lib := fromLib(ls)
	sortBlkio(lib)
	sortBlkio(ours)
	if !reflect.DeepEqual(lib, ours) {
		t.Errorf("library %+v\nours    %+v", *lib, *ours)
	}
}

// TestPathsAreTheLibrarysPaths resolves cgroup paths on this host both
// ways (nothing is created).
func TestPathsAreTheLibrarysPaths(t *testing.T) {
	mode := HostMode()
	for _, p := range []string{"/ctr-lite-diff/a", "ctr-lite-diff/a", "../x", "/a/../b", "a:b:c", "/x.slice/y.scope"} {
		// v2 resolution reads only /proc/self/cgroup's "0::" line.
		if own, err := ownCgroups(); err == nil && own[""] != "" {
			lib, err := fs2.NewManager(&lcg.Cgroup{Path: p}, "")
			if err != nil {
				t.Fatal(err)
			}
			ours, err := v2Dir(p)
			if err != nil || ours != lib.Path("") {
				t.Errorf("v2 %q: library %q, ours %q (%v)", p, lib.Path(""), ours, err)
			}
		}
		if mode == Unified {
			continue
		}
		for _, skip := range []bool{true, false} {
			lib, libErr := fs.NewManager(&lcg.Cgroup{Path: p, Resources: &lcg.Resources{SkipDevices: skip}}, nil)
			ours, ourErr := v1Dirs(p, !skip, mode == Hybrid)
			if (libErr == nil) != (ourErr == nil) {
				t.Fatalf("%q: library error %v, ours %v", p, libErr, ourErr)
			}
			if libErr == nil && !maps.Equal(lib.GetPaths(), ours) {
				t.Errorf("v1 %q (devices needed: %v):\nlibrary %v\nours    %v", p, !skip, lib.GetPaths(), ours)
			}
		}
	}
}

// TestCreateMakesWhatTheLibraryMakes creates a group with cpuset limits
// on this host's kernel both ways, below a fresh parent each, and wants
// the same hierarchies, and in each the same cpuset lists (v1: copied
// from the parent on the way down) or enabled controllers (v2:
// cgroup.subtree_control of each parent).
func TestCreateMakesWhatTheLibraryMakes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: it makes cgroups")
	}
	mode := HostMode()
	spec := &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0", Mems: "0"}}
	base := "/ctr-lite-cgdiff-" + strconv.Itoa(os.Getpid())
	libPath, ourPath := base+"/lib/a/b", base+"/ours/a/b"

	res, err := ToResources(spec, mode)
	if err != nil {
		t.Fatal(err)
	}
	cg := &lcg.Cgroup{Path: libPath, Resources: toLib(res)}
	var lib lcg.Manager
	if mode == Unified {
		lib, err = fs2.NewManager(cg, "")
	} else {
		lib, err = fs.NewManager(cg, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	ours, err := New(ourPath, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ours.Cleanup()
		for _, d := range lib.GetPaths() {
			for p := d; strings.Contains(p, base); p = filepath.Dir(p) {
				unix.Rmdir(p)
			}
		}
	})
	if err := lib.Apply(-1); err != nil {
		t.Fatalf("library: %v", err)
	}
	if d := lib.GetPaths()["devices"]; d != "" {
		// The library skips devices without rules; ctr-lite made it
		// after Apply when it used the library (and does now), so the
		// process joins it like every other hierarchy.
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := ours.CreateStep().Do(); err != nil {
		t.Fatalf("ours: %v", err)
	}
	libDirs := lib.GetPaths()
	if !slices.Equal(slices.Sorted(maps.Keys(libDirs)), slices.Sorted(maps.Keys(ours.dirs))) {
		t.Fatalf("hierarchies: library %v, ours %v", libDirs, ours.dirs)
	}
	files := []string{"cpuset.cpus", "cpuset.mems"}
	if mode == Unified {
		files = []string{"cgroup.subtree_control"}
	}
	for h, ld := range libDirs {
		od := ours.dirs[h]
		if !exists(ld) || !exists(od) {
			t.Errorf("%q: library made %s: %v, ours %s: %v", h, ld, exists(ld), od, exists(od))
			continue
		}
		if h != "cpuset" && mode != Unified {
			continue
		}
		// The group and the two groups made above it.
		for lp, op := ld, od; strings.Contains(lp, base+"/"); lp, op = filepath.Dir(lp), filepath.Dir(op) {
			for _, f := range files {
				if mode == Unified && lp == ld {
					continue // the leaf enables nothing
				}
				lb, lerr := os.ReadFile(filepath.Join(lp, f))
				ob, oerr := os.ReadFile(filepath.Join(op, f))
				if string(lb) != string(ob) || (lerr == nil) != (oerr == nil) {
					t.Errorf("%s: library %q (%v), ours %s: %q (%v)", filepath.Join(lp, f), lb, lerr, op, ob, oerr)
				}
			}
		}
	}
}
