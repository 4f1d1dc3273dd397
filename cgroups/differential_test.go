package cgroups

// The proof that ctr-lite's writers (v1.go, v2.go) write what runc's
// library, opencontainers/cgroups, writes: for every linux.resources
// field and the combinations where order matters, both run on copies of
// the same directory of cgroup files, and the files written (in order)
// and their contents afterwards must be the same. The library is a test
// dependency only.

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	lcg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setTestMode puts both writers in test mode (a write creates the file;
// no cgroupfs check) for one test.
func setTestMode(t *testing.T) {
	t.Helper()
	lcg.TestMode, testMode = true, true
	t.Cleanup(func() { lcg.TestMode, testMode = false, false })
}

// toLib converts Resources to the library's, field by field.
func toLib(r *Resources) *lcg.Resources {
	l := &lcg.Resources{
		Memory: r.Memory, MemoryReservation: r.MemoryReservation, MemorySwap: r.MemorySwap,
		CpuShares: r.CpuShares, CpuQuota: r.CpuQuota, CpuBurst: r.CpuBurst, CpuPeriod: r.CpuPeriod,
		CpuRtRuntime: r.CpuRtRuntime, CpuRtPeriod: r.CpuRtPeriod, CpusetCpus: r.CpusetCpus, CpusetMems: r.CpusetMems,
		CPUIdle: r.CPUIdle, PidsLimit: r.PidsLimit, BlkioWeight: r.BlkioWeight, BlkioLeafWeight: r.BlkioLeafWeight,
		OomKillDisable: r.OomKillDisable, MemorySwappiness: r.MemorySwappiness, NetClsClassid: r.NetClsClassid,
		CpuWeight: r.CpuWeight, Unified: r.Unified, SkipDevices: r.SkipDevices,
		MemoryCheckBeforeUpdate: r.MemoryCheckBeforeUpdate,
	}
	for _, d := range r.BlkioWeightDevice {
		l.BlkioWeightDevice = append(l.BlkioWeightDevice, lcg.NewWeightDevice(d.Major, d.Minor, d.Weight, d.LeafWeight))
	}
	for _, t := range []struct {
		in  []*ThrottleDevice
		out *[]*lcg.ThrottleDevice
	}{
		{r.BlkioThrottleReadBpsDevice, &l.BlkioThrottleReadBpsDevice}, {r.BlkioThrottleWriteBpsDevice, &l.BlkioThrottleWriteBpsDevice},
		{r.BlkioThrottleReadIOPSDevice, &l.BlkioThrottleReadIOPSDevice}, {r.BlkioThrottleWriteIOPSDevice, &l.BlkioThrottleWriteIOPSDevice},
	} {
		for _, d := range t.in {
			*t.out = append(*t.out, lcg.NewThrottleDevice(d.Major, d.Minor, d.Rate))
		}
	}
	for _, h := range r.HugetlbLimit {
		l.HugetlbLimit = append(l.HugetlbLimit, &lcg.HugepageLimit{Pagesize: h.Pagesize, Limit: h.Limit})
	}
	for _, p := range r.NetPrioIfpriomap {
		l.NetPrioIfpriomap = append(l.NetPrioIfpriomap, &lcg.IfPrioMap{Interface: p.Interface, Priority: p.Priority})
	}
	if r.Rdma != nil {
		l.Rdma = map[string]lcg.LinuxRdma{}
		for k, v := range r.Rdma {
			l.Rdma[k] = lcg.LinuxRdma{HcaHandles: v.HcaHandles, HcaObjects: v.HcaObjects}
		}
	}
	return l
}

// reflectFill sets every field of r to a non-zero value and lists them.
func reflectFill(r *Resources) []string {
	v := reflect.ValueOf(r).Elem()
	var names []string
	for i := 0; i < v.NumField(); i++ {
		names = append(names, v.Type().Field(i).Name)
		fill(v.Field(i))
	}
	return names
}

func fill(f reflect.Value) {
	switch f.Kind() {
	case reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem()))
		fill(f.Elem())
	case reflect.Slice:
		f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		fill(f.Index(0))
	case reflect.Map:
		f.Set(reflect.MakeMap(f.Type()))
		k, e := reflect.New(f.Type().Key()).Elem(), reflect.New(f.Type().Elem()).Elem()
		fill(k)
		fill(e)
		f.SetMapIndex(k, e)
	case reflect.Struct:
		for i := 0; i < f.NumField(); i++ {
			if f.Field(i).CanSet() {
				fill(f.Field(i))
			}
		}
	case reflect.String:
		f.SetString("x")
	case reflect.Bool:
		f.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.SetUint(3)
	}
}

func isZeroField(l *lcg.Resources, name string) bool {
	f := reflect.ValueOf(l).Elem().FieldByName(name)
	if !f.IsValid() || f.IsZero() {
		return true
	}
	// Nested values carried too: compare their printed form.
	return fmt.Sprintf("%+v", reflect.Indirect(f)) == ""
}

// TestToLibCoversEveryField: toLib must carry every field, or the
// differential test would compare the library on less than we write.
func TestToLibCoversEveryField(t *testing.T) {
	r := &Resources{}
	v := reflectFill(r)
	l := toLib(r)
	for _, name := range v {
		if name == "Devices" {
			continue // device rules: the devices writers' own tests
		}
		if isZeroField(l, name) {
			t.Errorf("toLib drops Resources.%s", name)
		}
	}
}

// fixture is a cgroup directory's files: name -> content; a content
// "-> TARGET" makes a symlink (to make a write fail: a dangling one gives
// ENOENT even with O_CREAT, one to an unwritable value EINVAL).
type fixture map[string]string

func (f fixture) with(kv ...string) fixture {
	g := maps.Clone(f)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<none>" {
			delete(g, kv[i])
		} else {
			g[kv[i]] = kv[i+1]
		}
	}
	return g
}

func (f fixture) make(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range f {
		p := filepath.Join(dir, name)
		var err error
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// dangling: a write to it fails with ENOENT (its directory is missing).
const dangling = "-> /nonexistent-ctr-lite-test/file"

// einvalSink is a kernel file that refuses any number with EINVAL and
// changes nothing: the transparent huge page mode takes only its words.
const einvalSink = "/sys/kernel/mm/transparent_hugepage/enabled"

var v1Files = fixture{
	"cpuset.cpus": "0-1\n", "cpuset.mems": "0\n",
	"memory.limit_in_bytes": "9223372036854771712\n", "memory.memsw.limit_in_bytes": "9223372036854771712\n",
	"memory.soft_limit_in_bytes": "9223372036854771712\n", "memory.swappiness": "60\n",
	"memory.oom_control":    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
	"memory.usage_in_bytes": "1052672\n", "memory.max_usage_in_bytes": "2097152\n",
	"cpu.shares": "1024\n", "cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cpu.cfs_burst_us": "0\n",
	"cpu.rt_period_us": "1000000\n", "cpu.rt_runtime_us": "0\n", "cpu.idle": "0\n",
	"pids.max":     "max\n",
	"blkio.weight": "500\n", "blkio.weight_device": "", "blkio.leaf_weight": "500\n", "blkio.leaf_weight_device": "",
	"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "",
	"blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
	"hugetlb.2MB.limit_in_bytes": "9223372036854771712\n", "hugetlb.2MB.rsvd.limit_in_bytes": "9223372036854771712\n",
	"hugetlb.1GB.limit_in_bytes": "9223372036854771712\n", "hugetlb.1GB.rsvd.limit_in_bytes": "9223372036854771712\n",
	"net_cls.classid": "0\n", "net_prio.ifpriomap": "lo 0\n", "rdma.max": "",
}

var v2Files = fixture{
	"cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
	"cpuset.cpus":        "", "cpuset.mems": "",
	"memory.max": "max\n", "memory.low": "0\n", "memory.swap.max": "max\n", "memory.high": "max\n",
	"memory.current": "1052672\n",
	"cpu.weight":     "100\n", "cpu.max": "max 100000\n", "cpu.max.burst": "0\n", "cpu.idle": "0\n",
	"pids.max":  "max\n",
	"io.weight": "default 100\n", "io.max": "",
	"hugetlb.2MB.max": "max\n", "hugetlb.2MB.rsvd.max": "max\n", "hugetlb.1GB.max": "max\n", "hugetlb.1GB.rsvd.max": "max\n",
	"rdma.max": "",
}

// recorder lists the files modified or created in a directory, in
// order (inotify(7); repeated events for one file merged).
type recorder struct{ fd int }

func record(t *testing.T, dir string) *recorder {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MODIFY|unix.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &recorder{fd}
}

func (r *recorder) files(t *testing.T) []string {
	t.Helper()
	var out []string
	buf := make([]byte, 1<<16)
	for {
		n, err := unix.Read(r.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			if len(out) == 0 || out[len(out)-1] != name {
				out = append(out, name)
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// snapshot reads every regular file of dir (symlinks as their target).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.Type()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			out[e.Name()] = "-> " + target
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// libV1 is the library's v1 writer for ctrl, new for each use: the
// library detects the blkio file names once per writer.
func libV1(ctrl string) interface {
	Set(string, *lcg.Resources) error
} {
	return map[string]interface {
		Set(string, *lcg.Resources) error
	}{
		"cpuset": &fs.CpusetGroup{}, "memory": &fs.MemoryGroup{}, "cpu": &fs.CpuGroup{}, "pids": &fs.PidsGroup{},
		"blkio": &fs.BlkioGroup{}, "hugetlb": &fs.HugetlbGroup{}, "net_cls": &fs.NetClsGroup{},
		"net_prio": &fs.NetPrioGroup{}, "rdma": &fs.RdmaGroup{},
	}[ctrl]
}

// compareRuns lists how the library's run and ours differ.
func compareRuns(ctrl string, tc diffCase, libErr, ourErr error, libSeq, ourSeq []string, libSnap, ourSnap map[string]string) []string {
	var out []string
	if (libErr == nil) != (ourErr == nil) || (libErr != nil) != tc.wantErr {
		out = append(out, fmt.Sprintf("%s: library error %v, ours %v (want an error: %v)", ctrl, libErr, ourErr, tc.wantErr))
	}
	if tc.unordered {
		libSeq, ourSeq = slices.Sorted(slices.Values(libSeq)), slices.Sorted(slices.Values(ourSeq))
	}
	if !slices.Equal(libSeq, ourSeq) {
		out = append(out, fmt.Sprintf("%s: files written in order:\nlibrary %q\nours    %q", ctrl, libSeq, ourSeq))
	}
	for _, name := range slices.Sorted(maps.Keys(libSnap)) {
		if libSnap[name] != ourSnap[name] {
			out = append(out, fmt.Sprintf("%s: %s: library left %q, ours %q", ctrl, name, libSnap[name], ourSnap[name]))
		}
	}
	for name := range ourSnap {
		if _, ok := libSnap[name]; !ok {
			out = append(out, fmt.Sprintf("%s: we made %s, the library did not", ctrl, name))
		}
	}
	return out
}

type diffCase struct {
	name      string
	mode      Mode // Hybrid: v1 writers; Unified: v2
	in        specs.LinuxResources
	files     fixture
	update    bool // as UpdateSteps: MemoryCheckBeforeUpdate
	unordered bool // the library writes in map order
	wantErr   bool
}

// runDiff runs the library and our writer for each controller the case
// sets and compares what they did.
func runDiff(t *testing.T, tc diffCase) {
	setTestMode(t)
	res, err := ToResources(&tc.in, tc.mode)
	if err != nil {
		t.Fatalf("ToResources: %v", err)
	}
	res.MemoryCheckBeforeUpdate = tc.update
	files := tc.files
	if files == nil {
		files = map[Mode]fixture{Hybrid: v1Files, Unified: v2Files}[tc.mode]
	}
	ran := 0
	for _, ctrl := range append(slices.Clip(controllerOrder), "unified") {
		part := only(ctrl, res)
		if describe(part) == "" {
			continue
		}
		ran++
		ourDir := files.make(t)
		ourRec := record(t, ourDir)
		var ourErr error
		if tc.mode == Unified {
			ourErr = setV2(ctrl, ourDir, part)
		} else {
			ourErr = setV1(ctrl, ourDir, part)
		}
		ourSeq, ourSnap := ourRec.files(t), snapshot(t, ourDir)
		// The library writes a map's entries in Go's random order,
		// each write replacing the test file's content: run it until
		// it took our (sorted) order, or give up.
		tries := 1
		if tc.unordered {
			tries = 64
		}
		var problems []string
		for try := 0; try < tries; try++ {
			libDir := files.make(t)
			libRec := record(t, libDir)
			var libErr error
			if tc.mode == Unified {
				m, err := fs2.NewManager(&lcg.Cgroup{Resources: &lcg.Resources{}}, libDir)
				if err != nil {
					t.Fatal(err)
				}
				libErr = m.Set(toLib(part))
			} else {
				libErr = libV1(ctrl).Set(libDir, toLib(part))
			}
			problems = compareRuns(ctrl, tc, libErr, ourErr, libRec.files(t), ourSeq, snapshot(t, libDir), ourSnap)
			if len(problems) == 0 {
				break
			}
		}
		for _, p := range problems {
			t.Error(p)
		}
		if len(ourSeq) == 0 && !tc.wantErr {
			t.Errorf("%s: nothing written for %s", ctrl, describe(part))
		}
	}
	if ran == 0 {
		t.Fatal("the case sets no controller")
	}
}

func TestWritersWriteWhatTheLibraryWrites(t *testing.T) {
	dev := specs.LinuxBlockIODevice{Major: 8, Minor: 0}
	dev2 := specs.LinuxBlockIODevice{Major: 253, Minor: 1}
	thr := []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 1 << 20}, {LinuxBlockIODevice: dev2, Rate: 300}}
	mem := func(m specs.LinuxMemory) specs.LinuxResources { return specs.LinuxResources{Memory: &m} }
	cpu := func(c specs.LinuxCPU) specs.LinuxResources { return specs.LinuxResources{CPU: &c} }
	blk := func(b specs.LinuxBlockIO) specs.LinuxResources { return specs.LinuxResources{BlockIO: &b} }
	huge := []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 1 << 30}}
	hugeOK := slices.Contains(HugePageSizes(), "2MB") && slices.Contains(HugePageSizes(), "1GB")
	_, err := os.Stat(einvalSink)
	einvalOK := err == nil

	both := []diffCase{
		{name: "memory.limit", in: mem(specs.LinuxMemory{Limit: i64(64 << 20)})},
		{name: "memory.limit -1", in: mem(specs.LinuxMemory{Limit: i64(-1)})},
		{name: "memory.reservation", in: mem(specs.LinuxMemory{Reservation: i64(32 << 20)})},
		{name: "memory.limit+swap raised", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)})},
		{name: "memory.limit+swap equal", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(64 << 20)})},
		{name: "memory.limit+swap -1", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(-1)})},
		{name: "memory.limit -1 swap -1", in: mem(specs.LinuxMemory{Limit: i64(-1), Swap: i64(-1)})},
		{name: "memory all", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Reservation: i64(16 << 20), Swap: i64(96 << 20)})},
		{name: "cpu.quota", in: cpu(specs.LinuxCPU{Quota: i64(50000)})},
		{name: "cpu.quota -1", in: cpu(specs.LinuxCPU{Quota: i64(-1)})},
		{name: "cpu.period", in: cpu(specs.LinuxCPU{Period: u64(50000)})},
		{name: "cpu.quota+period", in: cpu(specs.LinuxCPU{Quota: i64(20000), Period: u64(50000)})},
		{name: "cpu.burst", in: cpu(specs.LinuxCPU{Burst: u64(1000)})},
		{name: "cpu.burst+quota+period", in: cpu(specs.LinuxCPU{Burst: u64(1000), Quota: i64(20000), Period: u64(50000)})},
		{name: "cpu.idle", in: cpu(specs.LinuxCPU{Idle: i64(1)})},
		{name: "cpu.shares", in: cpu(specs.LinuxCPU{Shares: u64(512)})},
		{name: "cpu.shares max", in: cpu(specs.LinuxCPU{Shares: u64(262144)})},
		{name: "cpu.shares min", in: cpu(specs.LinuxCPU{Shares: u64(2)})},
		{name: "cpu all", in: cpu(specs.LinuxCPU{Shares: u64(100), Quota: i64(30000), Period: u64(60000), Burst: u64(500), Idle: i64(0)})},
		{name: "cpu.cpus", in: cpu(specs.LinuxCPU{Cpus: "0"})},
		{name: "cpu.mems", in: cpu(specs.LinuxCPU{Mems: "0"})},
		{name: "cpu.cpus+mems", in: cpu(specs.LinuxCPU{Cpus: "0-1", Mems: "0"})},
		{name: "pids.limit", in: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}},
		{name: "pids.limit -1", in: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-1)}}},
		{name: "blockIO.weight", in: blk(specs.LinuxBlockIO{Weight: u16(500)})},
		{name: "blockIO.weight min", in: blk(specs.LinuxBlockIO{Weight: u16(10)})},
		{name: "blockIO.weight max", in: blk(specs.LinuxBlockIO{Weight: u16(1000)})},
		{name: "blockIO.throttleReadBpsDevice", in: blk(specs.LinuxBlockIO{ThrottleReadBpsDevice: thr})},
		{name: "blockIO.throttleWriteBpsDevice", in: blk(specs.LinuxBlockIO{ThrottleWriteBpsDevice: thr})},
		{name: "blockIO.throttleReadIOPSDevice", in: blk(specs.LinuxBlockIO{ThrottleReadIOPSDevice: thr})},
		{name: "blockIO.throttleWriteIOPSDevice", in: blk(specs.LinuxBlockIO{ThrottleWriteIOPSDevice: thr})},
		{name: "blockIO all throttles", in: blk(specs.LinuxBlockIO{ThrottleReadBpsDevice: thr, ThrottleWriteBpsDevice: thr[:1],
			ThrottleReadIOPSDevice: thr[1:], ThrottleWriteIOPSDevice: thr})},
		{name: "rdma one device", in: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(10), HcaObjects: u32(100)}}}},
		{name: "rdma handles only", in: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(10)}}}},
		{name: "rdma objects only", in: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaObjects: u32(7)}}}},
		{name: "rdma two devices", unordered: true, in: specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{
			"mlx5_0": {HcaHandles: u32(10)}, "mlx5_1": {HcaObjects: u32(3)}}}},
		{name: "everything at once", in: specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20), Reservation: i64(1 << 20)},
			CPU:    &specs.LinuxCPU{Shares: u64(2048), Quota: i64(10000), Period: u64(20000), Cpus: "1", Mems: "0"},
			Pids:   &specs.LinuxPids{Limit: i64(99)}, BlockIO: &specs.LinuxBlockIO{Weight: u16(200), ThrottleReadBpsDevice: thr},
		}},
	}
	if hugeOK {
		both = append(both,
			diffCase{name: "hugepageLimits", in: specs.LinuxResources{HugepageLimits: huge}},
			diffCase{name: "hugepageLimits one", in: specs.LinuxResources{HugepageLimits: huge[:1]}})
	}

	v1 := []diffCase{
		{name: "memory.limit+swap lowered", in: mem(specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(48 << 20)}),
			files: v1Files.with("memory.limit_in_bytes", "67108864\n", "memory.memsw.limit_in_bytes", "134217728\n")},
		{name: "memory.limit+swap above current limit", in: mem(specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(256 << 20)}),
			files: v1Files.with("memory.limit_in_bytes", "67108864\n")},
		{name: "memory.limit -1 without memsw", in: mem(specs.LinuxMemory{Limit: i64(-1)}),
			files: v1Files.with("memory.memsw.limit_in_bytes", "<none>")},
		{name: "memory.limit+swap, no current limit file", wantErr: true, in: mem(specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(64 << 20)}),
			files: v1Files.with("memory.limit_in_bytes", "<none>")},
		{name: "memory.swappiness", in: mem(specs.LinuxMemory{Swappiness: u64(10)})},
		{name: "memory.swappiness 0", in: mem(specs.LinuxMemory{Swappiness: u64(0)})},
		{name: "memory.disableOOMKiller", in: mem(specs.LinuxMemory{DisableOOMKiller: bl(true)})},
		{name: "memory v1 all", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(64 << 20), Reservation: i64(8 << 20),
			Swappiness: u64(0), DisableOOMKiller: bl(true)})},
		{name: "cpu.realtimeRuntime", in: cpu(specs.LinuxCPU{RealtimeRuntime: i64(1000)})},
		{name: "cpu.realtimePeriod", in: cpu(specs.LinuxCPU{RealtimePeriod: u64(500000)})},
		{name: "cpu.realtime both", in: cpu(specs.LinuxCPU{RealtimeRuntime: i64(1000), RealtimePeriod: u64(500000)})},
		{name: "cpu.shares read back empty", wantErr: true, in: cpu(specs.LinuxCPU{Shares: u64(512)}),
			files: v1Files.with("cpu.shares", "-> /dev/null")},
		{name: "cpu.burst, no cpu.cfs_burst_us", in: cpu(specs.LinuxCPU{Burst: u64(1000), Quota: i64(20000)}),
			files: v1Files.with("cpu.cfs_burst_us", dangling)},
		{name: "blockIO.leafWeight", in: blk(specs.LinuxBlockIO{LeafWeight: u16(300)})},
		{name: "blockIO.weightDevice", in: blk(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: dev, Weight: u16(300)}, {LinuxBlockIODevice: dev2, Weight: u16(20), LeafWeight: u16(30)}}})},
		{name: "blockIO.weightDevice leaf only", in: blk(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: dev, LeafWeight: u16(300)}}})},
		{name: "blockIO weights on BFQ only", in: blk(specs.LinuxBlockIO{Weight: u16(400), WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: dev, Weight: u16(300)}}}),
			files: v1Files.with("blkio.weight", "<none>", "blkio.weight_device", "<none>", "blkio.bfq.weight", "100\n", "blkio.bfq.weight_device", "")},
		{name: "network.classID", in: specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(0x100001)}}},
		{name: "network.priorities", in: specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{
			{Name: "eth0", Priority: 5}, {Name: "lo", Priority: 1}}}}},
		{name: "network both", in: specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(7),
			Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}}}},
	}
	if hugeOK {
		v1 = append(v1, diffCase{name: "hugepageLimits without rsvd", in: specs.LinuxResources{HugepageLimits: huge},
			files: v1Files.with("hugetlb.2MB.rsvd.limit_in_bytes", dangling, "hugetlb.1GB.rsvd.limit_in_bytes", "<none>")})
	}
	if einvalOK {
		v1 = append(v1,
			diffCase{name: "cpu.period refused, quota first", in: cpu(specs.LinuxCPU{Quota: i64(20000), Period: u64(50000)}),
				files: v1Files.with("cpu.cfs_period_us", "-> "+einvalSink), wantErr: true},
			diffCase{name: "cpu.period refused alone", in: cpu(specs.LinuxCPU{Period: u64(50000)}),
				files: v1Files.with("cpu.cfs_period_us", "-> "+einvalSink), wantErr: true},
			diffCase{name: "cpu.burst refused, quota first", in: cpu(specs.LinuxCPU{Burst: u64(1000), Quota: i64(20000)}),
				files: v1Files.with("cpu.cfs_burst_us", "-> "+einvalSink), wantErr: true},
			diffCase{name: "cpu.rt_period refused, runtime first", in: cpu(specs.LinuxCPU{RealtimeRuntime: i64(1000), RealtimePeriod: u64(500000)}),
				files: v1Files.with("cpu.rt_period_us", "-> "+einvalSink), wantErr: true},
			diffCase{name: "memory.limit refused", in: mem(specs.LinuxMemory{Limit: i64(64 << 20)}),
				files: v1Files.with("memory.limit_in_bytes", "-> "+einvalSink), wantErr: true})
	}

	v2 := []diffCase{
		{name: "memory.swap without swap accounting", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(64 << 20)}),
			files: v2Files.with("memory.swap.max", dangling)},
		{name: "memory.swap -1 without swap accounting", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(-1)}),
			files: v2Files.with("memory.swap.max", dangling)},
		{name: "memory.swap limited without swap accounting", in: mem(specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(96 << 20)}),
			files: v2Files.with("memory.swap.max", dangling), wantErr: true},
		{name: "update memory above usage", update: true, in: mem(specs.LinuxMemory{Limit: i64(64 << 20)})},
		{name: "update memory below usage", update: true, wantErr: true, in: mem(specs.LinuxMemory{Limit: i64(1 << 20)})},
		{name: "update memory+swap below usage", update: true, wantErr: true, in: mem(specs.LinuxMemory{Limit: i64(1 << 20), Swap: i64(1 << 20)})},
		{name: "update memory, no memory.current", update: true, in: mem(specs.LinuxMemory{Limit: i64(4096)}),
			files: v2Files.with("memory.current", "<none>")},
		{name: "cpu.shares 1024 as weight", in: cpu(specs.LinuxCPU{Shares: u64(1024)})},
		{name: "blockIO.weight, no io.bfq.weight", in: blk(specs.LinuxBlockIO{Weight: u16(500)})},
		{name: "blockIO.weight with io.bfq.weight", in: blk(specs.LinuxBlockIO{Weight: u16(500)}),
			files: v2Files.with("io.bfq.weight", "default 100\n")},
		{name: "blockIO.weight with old io.bfq.weight", in: blk(specs.LinuxBlockIO{Weight: u16(500)}),
			files: v2Files.with("io.bfq.weight", "100\n")},
		{name: "blockIO.weightDevice with io.bfq.weight", in: blk(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: dev, Weight: u16(300)}, {LinuxBlockIODevice: dev2, Weight: u16(20)}}}),
			files: v2Files.with("io.bfq.weight", "default 100\n")},
		{name: "blockIO.weight+weightDevice with io.bfq.weight", in: blk(specs.LinuxBlockIO{Weight: u16(700), WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: dev, Weight: u16(300)}}}),
			files: v2Files.with("io.bfq.weight", "default 100\n")},
		{name: "blockIO.weightDevice with old io.bfq.weight", in: blk(specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: dev, Weight: u16(300)}}}),
			files: v2Files.with("io.bfq.weight", "100\n")},
		{name: "unified one file", in: specs.LinuxResources{Unified: map[string]string{"memory.high": "1000000"}}},
		{name: "unified multi-line", in: specs.LinuxResources{Unified: map[string]string{"io.max": "8:0 rbps=1\n253:1 wiops=2"}}},
		{name: "unified several", unordered: true, in: specs.LinuxResources{Unified: map[string]string{
			"memory.high": "1000000", "pids.max": "20", "cgroup.freeze": "0"}}},
		{name: "unified overrides a limit", in: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)},
			Unified: map[string]string{"memory.max": "max"}}},
		{name: "unified missing file, controller enabled", wantErr: true, in: specs.LinuxResources{Unified: map[string]string{"memory.oom.group": "1"}},
			files: v2Files.with("memory.oom.group", dangling)},
		{name: "unified missing file, controller absent", wantErr: true, in: specs.LinuxResources{Unified: map[string]string{"foo.bar": "1"}},
			files: v2Files.with("foo.bar", dangling)},
		{name: "cpu.max period alone", in: cpu(specs.LinuxCPU{Period: u64(20000)})},
	}
	if hugeOK {
		v2 = append(v2, diffCase{name: "hugepageLimits without rsvd", in: specs.LinuxResources{HugepageLimits: huge},
			files: v2Files.with("hugetlb.2MB.rsvd.max", dangling, "hugetlb.1GB.rsvd.max", "<none>")})
	}
	if einvalOK {
		v2 = append(v2,
			diffCase{name: "cpu.max.burst refused, cpu.max first", in: cpu(specs.LinuxCPU{Burst: u64(1000), Quota: i64(20000)}),
				files: v2Files.with("cpu.max.burst", "-> "+einvalSink), wantErr: true},
			diffCase{name: "cpu.max.burst refused alone", in: cpu(specs.LinuxCPU{Burst: u64(1000)}),
				files: v2Files.with("cpu.max.burst", "-> "+einvalSink), wantErr: true})
	}

	for _, mode := range []Mode{Hybrid, Unified} {
		cases := slices.Clone(both)
		if mode == Unified {
			cases = append(cases, v2...)
		} else {
			cases = append(cases, v1...)
		}
		for _, tc := range cases {
			tc.mode = mode
			t.Run(mode.String()+"/"+tc.name, func(t *testing.T) { runDiff(t, tc) })
		}
	}
}

// TestCpusetFileFollowsNoprefix: a cpuset hierarchy mounted with
// -o noprefix names its files "cpus" and "mems" (the library detects it
// once per process, so the differential test cannot show it).
func TestCpusetFileFollowsNoprefix(t *testing.T) {
	setTestMode(t)
	for _, tc := range []struct {
		files fixture
		want  string
	}{
		{fixture{"cpuset.cpus": "0\n"}, "cpuset.cpus"},
		{fixture{"cpus": "0\n"}, "cpus"},
		{fixture{}, "cpuset.cpus"},
	} {
		dir := tc.files.make(t)
		if got := cpusetFile(dir, "cpus"); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.files, got, tc.want)
		}
		if err := setCpusetV1(dir, &Resources{CpusetCpus: "1"}); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, tc.want)); string(b) != "1" {
			t.Errorf("%v: %s holds %q after the write", tc.files, tc.want, b)
		}
	}
}
