package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// limitCase is one field of linux.resources given alone, and the kernel
// file that must hold it afterwards (v1 on this hybrid host, v2 in CI's
// VM), or the refusal where the host cannot hold it.
type limitCase struct {
	name  string
	res   specs.LinuxResources
	flags []string // `update` flags that give the same, if update has them
	ctrl  string   // v1 hierarchy
	// v1 and v2: the file, and a line it must hold after the write.
	v1, v1Line, v2, v2Line string
	// refusal (a substring of the one-line error) instead, by mode; set
	// by hostLimits for what this host lacks.
	refuseV1, refuseV2 string
}

func ptr[T any](v T) *T { return &v }

// blockDevice is "MAJOR:MINOR" of a disk of this host, for the throttle
// limits (the kernel refuses rules for devices it does not have).
func blockDevice(t *testing.T) (int64, int64) {
	t.Helper()
	devs, _ := filepath.Glob("/sys/block/*/dev")
	var best string
	for _, d := range devs {
		if n := filepath.Base(filepath.Dir(d)); best == "" || !strings.HasPrefix(n, "loop") && !strings.HasPrefix(n, "zram") {
			best = d
		}
	}
	if best == "" {
		t.Fatal("no block device in /sys/block for the throttle limits")
	}
	var maj, min int64
	if _, err := fmt.Sscanf(readTrim(t, best), "%d:%d", &maj, &min); err != nil {
		t.Fatal(err)
	}
	return maj, min
}

// hostLimits is every linux.resources field runc 1.1 converts, each
// alone, with what this host must do with it.
func hostLimits(t *testing.T) []limitCase {
	maj, min := blockDevice(t)
	dev := fmt.Sprintf("%d:%d", maj, min)
	thr := []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: 1 << 20}}
	v1Only := "cgroup v2"
	cases := []limitCase{
		{name: "memory.limit", res: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20)}},
			flags: []string{"--memory", "64m"}, ctrl: "memory",
			v1: "memory.limit_in_bytes", v1Line: "67108864", v2: "memory.max", v2Line: "67108864"},
		{name: "memory.reservation", res: specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: ptr[int64](32 << 20)}},
			flags: []string{"--memory-reservation", "32m"}, ctrl: "memory",
			v1: "memory.soft_limit_in_bytes", v1Line: "33554432", v2: "memory.low", v2Line: "33554432"},
		{name: "memory.swap", res: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20), Swap: ptr[int64](128 << 20)}},
			flags: []string{"--memory", "64m", "--memory-swap", "128m"}, ctrl: "memory",
			v1: "memory.memsw.limit_in_bytes", v1Line: "134217728", v2: "memory.swap.max", v2Line: "67108864"},
		{name: "memory.swappiness", res: specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](10)}},
			ctrl: "memory", v1: "memory.swappiness", v1Line: "10", refuseV2: v1Only},
		{name: "memory.disableOOMKiller", res: specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(true)}},
			ctrl: "memory", v1: "memory.oom_control", v1Line: "oom_kill_disable 1", refuseV2: v1Only},
		{name: "cpu.shares", res: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](512)}},
			flags: []string{"--cpu-shares", "512"}, ctrl: "cpu",
			v1: "cpu.shares", v1Line: "512", v2: "cpu.weight", v2Line: "59"}, // opencontainers/cgroups' conversion (1024 -> 100)
		{name: "cpu.quota", res: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](50000)}},
			flags: []string{"--cpu-quota", "50000"}, ctrl: "cpu",
			v1: "cpu.cfs_quota_us", v1Line: "50000", v2: "cpu.max", v2Line: "50000 100000"},
		{name: "cpu.period", res: specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr[uint64](50000)}},
			flags: []string{"--cpu-period", "50000"}, ctrl: "cpu",
			v1: "cpu.cfs_period_us", v1Line: "50000", v2: "cpu.max", v2Line: "max 50000"},
		{name: "cpu.burst", res: specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: ptr[uint64](1000)}},
			ctrl: "cpu", v1: "cpu.cfs_burst_us", v1Line: "1000", v2: "cpu.max.burst", v2Line: "1000"},
		{name: "cpu.realtimeRuntime", res: specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr[int64](1000)}},
			flags: []string{"--cpu-rt-runtime", "1000"}, ctrl: "cpu", v1: "cpu.rt_runtime_us", v1Line: "1000", refuseV2: v1Only},
		{name: "cpu.realtimePeriod", res: specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: ptr[uint64](500000)}},
			flags: []string{"--cpu-rt-period", "500000"}, ctrl: "cpu", v1: "cpu.rt_period_us", v1Line: "500000", refuseV2: v1Only},
		{name: "cpu.idle", res: specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr[int64](1)}},
			ctrl: "cpu", v1: "cpu.idle", v1Line: "1", v2: "cpu.idle", v2Line: "1"},
		{name: "cpu.cpus", res: specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}},
			flags: []string{"--cpuset-cpus", "0"}, ctrl: "cpuset",
			v1: "cpuset.cpus", v1Line: "0", v2: "cpuset.cpus", v2Line: "0"},
		{name: "cpu.mems", res: specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "0"}},
			flags: []string{"--cpuset-mems", "0"}, ctrl: "cpuset",
			v1: "cpuset.mems", v1Line: "0", v2: "cpuset.mems", v2Line: "0"},
		{name: "pids.limit", res: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](10)}},
			flags: []string{"--pids-limit", "10"}, ctrl: "pids",
			v1: "pids.max", v1Line: "10", v2: "pids.max", v2Line: "10"},
		{name: "blockIO.throttleReadBpsDevice", res: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: thr}},
			ctrl: "blkio", v1: "blkio.throttle.read_bps_device", v1Line: dev + " 1048576",
			v2: "io.max", v2Line: dev + " rbps=1048576 wbps=max riops=max wiops=max"},
		{name: "blockIO.throttleWriteBpsDevice", res: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteBpsDevice: thr}},
			ctrl: "blkio", v1: "blkio.throttle.write_bps_device", v1Line: dev + " 1048576",
			v2: "io.max", v2Line: dev + " rbps=max wbps=1048576 riops=max wiops=max"},
		{name: "blockIO.throttleReadIOPSDevice", res: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadIOPSDevice: thr}},
			ctrl: "blkio", v1: "blkio.throttle.read_iops_device", v1Line: dev + " 1048576",
			v2: "io.max", v2Line: dev + " rbps=max wbps=max riops=1048576 wiops=max"},
		{name: "blockIO.throttleWriteIOPSDevice", res: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteIOPSDevice: thr}},
			ctrl: "blkio", v1: "blkio.throttle.write_iops_device", v1Line: dev + " 1048576",
			v2: "io.max", v2Line: dev + " rbps=max wbps=max riops=max wiops=1048576"},
		{name: "network.classID", res: specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr[uint32](0x100001)}},
			ctrl: "net_cls", v1: "net_cls.classid", v1Line: "1048577", refuseV2: "network: cgroup v2 has no net_cls or net_prio"},
		{name: "network.priorities", res: specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 5}}}},
			ctrl: "net_prio", v1: "net_prio.ifpriomap", v1Line: "lo 5", refuseV2: "network: cgroup v2 has no net_cls or net_prio"},
		{name: "unified", res: specs.LinuxResources{Unified: map[string]string{"memory.high": "1048576"}},
			v2: "memory.high", v2Line: "1048576", refuseV1: "unified: cgroup v2 files"},
	}
	if sizes, _ := filepath.Glob("/sys/kernel/mm/hugepages/hugepages-2048kB"); len(sizes) > 0 {
		cases = append(cases, limitCase{name: "hugepageLimits", res: specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
			flags: []string{"--hugetlb", "2MB=4m"}, ctrl: "hugetlb",
			v1: "hugetlb.2MB.limit_in_bytes", v1Line: "4194304", v2: "hugetlb.2MB.max", v2Line: "4194304"})
	}
	for i := range cases {
		c := &cases[i]
		// A v1 controller this host did not mount is refused, by name
		// (runc 1.1 would skip it without a word).
		if !cgroupV2() && c.ctrl != "" && c.refuseV1 == "" {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c.ctrl)); err != nil {
				c.refuseV1 = "no " + c.ctrl + " hierarchy in cgroup v1"
			}
		}
	}
	return cases
}

// want is the file and line for this host's mode, or the refusal.
func (c limitCase) want(p string) (file, line, refuse string) {
	if cgroupV2() {
		return filepath.Join("/sys/fs/cgroup", p, c.v2), c.v2Line, c.refuseV2
	}
	return filepath.Join("/sys/fs/cgroup", c.ctrl, p, c.v1), c.v1Line, c.refuseV1
}

func (c limitCase) check(t *testing.T, how, p string) {
	t.Helper()
	file, line, _ := c.want(p)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("%s: %v", how, err)
		return
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.TrimSpace(l) == line {
			return
		}
	}
	t.Errorf("%s: %s holds %q, want a line %q", how, file, data, line)
}

// TestUserLimitsEachResourceAlone gives each linux.resources field alone
// to create, to update --resources and (where update has one) to update's
// flags, and reads the kernel's file back: every limit that validates
// reaches the kernel, or is refused with a one-line error that names it.
func TestUserLimitsEachResourceAlone(t *testing.T) {
	for _, c := range hostLimits(t) {
		t.Run(c.name, func(t *testing.T) {
			b := newBundle(t, "res", "sleep", "1000")
			p := b.spec.Linux.CgroupsPath
			_, _, refuse := c.want(p)
			res := c.res
			b.spec.Linux.Resources = &res
			b.write()
			if refuse != "" {
				b.fail([]string{"create", "--bundle", b.dir, b.id}, `create "`+b.id+`"`, refuse)
			} else {
				b.mustDetached("create", "--bundle", b.dir, b.id)
				c.check(t, "create", p)
				b.must("delete", "--force", b.id)
			}

			// update --resources with the field alone, on a container
			// made without it.
			b.spec.Linux.Resources = nil
			b.write()
			b.mustDetached("create", "--bundle", b.dir, b.id)
			f := filepath.Join(t.TempDir(), "res.json")
			data, _ := json.Marshal(c.res)
			if err := os.WriteFile(f, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if refuse != "" {
				b.fail([]string{"update", "--resources", f, b.id}, `update "`+b.id+`"`, refuse)
			} else {
				r := b.must("--explain", "update", "--resources", f, b.id)
				c.check(t, "update --resources", p)
				// --explain shows the write and the file as the
				// kernel holds it afterwards.
				file, line, _ := c.want(p)
				if !strings.Contains(r.stderr, file+" = ") || !strings.Contains(r.stderr, line) {
					t.Errorf("update --explain does not show %s holding %q:\n%s", file, line, r.stderr)
				}
			}
			b.must("delete", "--force", b.id)

			if c.flags == nil {
				return
			}
			b.mustDetached("create", "--bundle", b.dir, b.id)
			args := append(append([]string{"update"}, c.flags...), b.id)
			if refuse != "" {
				b.fail(args, `update "`+b.id+`"`, refuse)
			} else {
				b.must(args...)
				c.check(t, "update "+strings.Join(c.flags, " "), p)
			}
			b.must("delete", "--force", b.id)
		})
	}
}

// TestUserGetsUnwritableLimitsRefused: limits whose file this kernel may
// lack (blkio weights need the BFQ scheduler, rdma needs an RDMA device)
// are written or refused with an error, never accepted and dropped.
func TestUserGetsUnwritableLimitsRefused(t *testing.T) {
	maj, min := blockDevice(t)
	bd := specs.LinuxBlockIODevice{Major: maj, Minor: min}
	dev := fmt.Sprintf("%d:%d", maj, min)
	for _, c := range []struct {
		name  string
		res   specs.LinuxResources
		ctrl  string
		files map[string]string // file -> what it holds if the write succeeded there
	}{
		{"blockIO.weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](500)}}, "blkio",
			map[string]string{"blkio.bfq.weight": "500", "blkio.weight": "500", "io.bfq.weight": "500", "io.weight": "default 4950"}}, // runc's conversion to 1..10000
		{"blockIO.weightDevice", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: bd, Weight: ptr[uint16](300)}}}}, "blkio",
			map[string]string{"blkio.bfq.weight_device": dev + " 300", "blkio.weight_device": dev + " 300", "io.bfq.weight": dev + " 300"}},
		{"rdma", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"ctrlite_none": {HcaHandles: ptr[uint32](10)}}}, "rdma",
			map[string]string{"rdma.max": "ctrlite_none hca_handle=10"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBundle(t, "unwritable", "sleep", "1000")
			b.spec.Linux.Resources = &c.res
			b.write()
			r := b.detached(nil, "create", "--bundle", b.dir, b.id)
			if r.code != 0 {
				msg := strings.TrimSpace(r.stderr)
				if strings.Contains(msg, "\n") || !strings.Contains(msg, `create "`+b.id+`"`) {
					t.Errorf("refusal is not one line naming the container: %q", msg)
				}
				if !strings.Contains(msg, c.ctrl) && !strings.Contains(msg, strings.SplitN(c.name, ".", 2)[0]) {
					t.Errorf("refusal names neither the field nor the controller: %q", msg)
				}
				return
			}
			// Accepted: the value must be in one of the files.
			dir := filepath.Join("/sys/fs/cgroup", b.spec.Linux.CgroupsPath)
			if !cgroupV2() {
				dir = filepath.Join("/sys/fs/cgroup", c.ctrl, b.spec.Linux.CgroupsPath)
			}
			var seen []string
			found := false
			for f, want := range c.files {
				if data, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
					seen = append(seen, f+": "+strings.TrimSpace(string(data)))
					found = found || strings.Contains(string(data), want)
				}
			}
			if !found {
				t.Errorf("create accepted %s but no file holds it: %v", c.name, seen)
			}
			b.must("delete", "--force", b.id)
		})
	}
}

// TestUserGetsKernelMemoryIgnoredWithAWarning: memory.kernel and
// kernelTCP (kmem limits, gone from Linux 5.16) are accepted and ignored
// with a warning, by create and by update, as runc 1.1 does.
func TestUserGetsKernelMemoryIgnoredWithAWarning(t *testing.T) {
	b := newBundle(t, "kmem", "sleep", "1000")
	b.spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: ptr[int64](64 << 20)}} //nolint:staticcheck // what old clients send
	b.write()
	r := b.mustDetached("create", "--bundle", b.dir, b.id)
	if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "kernel memory settings are ignored") {
		t.Errorf("create does not warn about memory.kernel:\n%s", r.stderr)
	}
	f := filepath.Join(t.TempDir(), "res.json")
	if err := os.WriteFile(f, []byte(`{"memory":{"kernelTCP":1048576}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = b.must("update", "--resources", f, b.id)
	if !strings.Contains(r.stderr, "kernel memory settings are ignored") {
		t.Errorf("update does not warn about memory.kernelTCP:\n%s", r.stderr)
	}
	r = b.must("update", "--kernel-memory", "64m", b.id)
	if !strings.Contains(r.stderr, "kernel memory settings are ignored") {
		t.Errorf("update --kernel-memory does not warn:\n%s", r.stderr)
	}
	b.must("delete", "--force", b.id)
}

// TestUserUpdatesOneOfAPairOfLimits: an update that gives memory.swap
// alone keeps the container's memory.limit, and cpu.quota alone keeps its
// cpu.period (v2 writes both to cpu.max), as runc update does by merging
// with the container's config.
func TestUserUpdatesOneOfAPairOfLimits(t *testing.T) {
	b := newBundle(t, "pair", "sleep", "1000")
	p := b.spec.Linux.CgroupsPath
	b.spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20)},
		CPU: &specs.LinuxCPU{Quota: ptr[int64](20000), Period: ptr[uint64](50000)}}
	b.write()
	b.mustDetached("create", "--bundle", b.dir, b.id)
	b.must("update", "--memory-swap", "128m", b.id)
	b.must("update", "--cpu-quota", "30000", b.id)
	checks := []limitCase{
		{ctrl: "memory", v1: "memory.memsw.limit_in_bytes", v1Line: "134217728", v2: "memory.swap.max", v2Line: "67108864"},
		{ctrl: "memory", v1: "memory.limit_in_bytes", v1Line: "67108864", v2: "memory.max", v2Line: "67108864"},
		{ctrl: "cpu", v1: "cpu.cfs_quota_us", v1Line: "30000", v2: "cpu.max", v2Line: "30000 50000"},
		{ctrl: "cpu", v1: "cpu.cfs_period_us", v1Line: "50000", v2: "cpu.max", v2Line: "30000 50000"},
	}
	for _, c := range checks {
		c.check(t, "update", p)
	}
	b.must("delete", "--force", b.id)
}
