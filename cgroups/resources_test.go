package cgroups

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func bl(v bool) *bool      { return &v }
func u32(v uint32) *uint32 { return &v }

func TestToResourcesConvertsEachField(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		in   specs.LinuxResources
		want Resources
	}{
		{"empty", Hybrid, specs.LinuxResources{}, Resources{SkipDevices: true}},
		{"memory", Legacy, specs.LinuxResources{Memory: &specs.LinuxMemory{
			Limit: i64(64 << 20), Reservation: i64(32 << 20), Swap: i64(128 << 20), Swappiness: u64(10), DisableOOMKiller: bl(true),
		}}, Resources{SkipDevices: true, Memory: 64 << 20, MemoryReservation: 32 << 20, MemorySwap: 128 << 20, MemorySwappiness: u64(10), OomKillDisable: true}},
		{"memory unlimited", Unified, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1), Swap: i64(-1)}},
			Resources{SkipDevices: true, Memory: -1, MemorySwap: -1}},
		{"pids", Hybrid, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}, Resources{SkipDevices: true, PidsLimit: i64(10)}},
		{"pids 0 is unset, as in runc 1.1", Unified, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}}, Resources{SkipDevices: true}},
		{"cpu v1", Hybrid, specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000), Cpus: "0-1", Mems: "0"}},
			Resources{SkipDevices: true, CpuShares: 512, CpuQuota: 50000, CpuPeriod: 100000, CpusetCpus: "0-1", CpusetMems: "0"}},
		{"cpu shares become weight on v2", Unified, specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(1024)}},
			Resources{SkipDevices: true, CpuWeight: 100}},
		{"blkio", Legacy, specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500), WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(300)}}}},
			Resources{SkipDevices: true, BlkioWeight: 500, BlkioWeightDevice: []*WeightDevice{{BlockIODevice{8, 0}, 300, 0}}}},
		{"devices", Hybrid, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rw"}}},
			Resources{Devices: []DeviceRule{
				{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: false},
				{Type: 'c', Major: 1, Minor: 3, Access: "rw", Allow: true}}}},
		{"unified", Unified, specs.LinuxResources{Unified: map[string]string{"memory.high": "1000000"}},
			Resources{SkipDevices: true, Unified: map[string]string{"memory.high": "1000000"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToResources(&tt.in, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestToResourcesRejectsImpossibleValues(t *testing.T) {
	tests := []struct {
		name string
		mode Mode
		in   specs.LinuxResources
		want string
	}{
		{"negative memory", Hybrid, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-5)}}, "memory.limit: -5 is negative"},
		{"memory below a page", Hybrid, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1)}}, "memory.limit: 1 bytes is below one page"},
		{"swap below memory", Hybrid, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(32 << 20)}}, "memory.swap"},
		{"swap without memory", Unified, specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(32 << 20)}}, "needs memory.limit"},
		{"reservation above limit", Hybrid, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20), Reservation: i64(2 << 20)}}, "memory.reservation"},
		{"swappiness", Hybrid, specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(101)}}, "memory.swappiness"},
		{"negative pids", Hybrid, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(-2)}}, "pids.limit: -2"},
		{"shares", Hybrid, specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(1)}}, "cpu.shares: 1"},
		{"tiny quota", Hybrid, specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(10)}}, "cpu.quota: 10"},
		{"period", Unified, specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(5)}}, "cpu.period: 5"},
		{"cpus syntax", Hybrid, specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-x"}}, "cpu.cpus"},
		{"blkio weight", Hybrid, specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(5)}}, "blockIO.weight: 5"},
		{"hugetlb size", Hybrid, specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}, "hugepageLimits[0].pageSize"},
		{"device type", Hybrid, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}}, "devices[0]: type"},
		{"device access", Hybrid, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rx"}}}, "devices[0]: access"},
		{"unified on v1", Hybrid, specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "unified: cgroup v2 files"},
		{"unified key", Unified, specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, "unified: \"../x\""},
		{"network on v2", Unified, specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(1)}}, "network: cgroup v2 has no net_cls"},
		{"interface name", Hybrid, specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "a b"}}}}, "network.priorities[0].name"},
		{"oom killer on v2", Unified, specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: bl(true)}}, "memory.disableOOMKiller: cgroup v2"},
		{"swappiness on v2", Unified, specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(10)}}, "memory.swappiness: cgroup v2"},
		{"rt on v2", Unified, specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(1000)}}, "cpu.realtimeRuntime"},
		{"leaf weight on v2", Unified, specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: u16(100)}}, "blockIO.leafWeight: cgroup v2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ToResources(&tt.in, tt.mode)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{"0": 0, "4096": 4096, "64k": 64 << 10, "64m": 64 << 20, "64M": 64 << 20,
		"1g": 1 << 30, "2GB": 2 << 30, "1t": 1 << 40, "-1": -1, "max": -1}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "-5m", "-2", "12q", "1.5g", "99999999999g"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseDeviceRule(t *testing.T) {
	d, err := ParseDeviceRule(false, "c 1:3 rwm")
	if err != nil || d.Allow || d.Type != "c" || *d.Major != 1 || *d.Minor != 3 || d.Access != "rwm" {
		t.Errorf("c 1:3 rwm: %+v %v", d, err)
	}
	d, err = ParseDeviceRule(true, "b *:* m")
	if err != nil || !d.Allow || d.Type != "b" || d.Major != nil || d.Minor != nil || d.Access != "m" {
		t.Errorf("b *:* m: %+v %v", d, err)
	}
	if d, err = ParseDeviceRule(true, "a"); err != nil || d.Type != "a" || d.Access != "rwm" {
		t.Errorf("a: %+v %v", d, err)
	}
	for _, in := range []string{"", "c", "x 1:3 r", "c 1-3 r", "c a:3 r", "c 1:3 rx", "c 1:3 r extra"} {
		if _, err := ParseDeviceRule(true, in); err == nil {
			t.Errorf("ParseDeviceRule(%q): no error", in)
		}
	}
}

func TestParseHugetlb(t *testing.T) {
	h, err := ParseHugetlb("2MB=64m")
	if err != nil || h.Pagesize != "2MB" || h.Limit != 64<<20 {
		t.Errorf("2MB=64m: %+v %v", h, err)
	}
	for _, in := range []string{"2MB", "=1", "2MB=x"} {
		if _, err := ParseHugetlb(in); err == nil {
			t.Errorf("ParseHugetlb(%q): no error", in)
		}
	}
}

func TestDirListIsShortWhenOnlyTheHierarchyDiffers(t *testing.T) {
	m := &Manager{dirs: map[string]string{"memory": "/sys/fs/cgroup/memory/a/b", "pids": "/sys/fs/cgroup/pids/a/b"}}
	if got, want := m.dirList(), "/sys/fs/cgroup/{memory,pids}/a/b"; got != want {
		t.Errorf("dirList = %q, want %q", got, want)
	}
	m.dirs["memory"] = "/sys/fs/cgroup/memory/own/a/b"
	if got := m.dirList(); !strings.Contains(got, " ") {
		t.Errorf("dirList = %q, want both paths in full", got)
	}
}

func TestNewRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", "/", "/..", ".", "../.."} {
		if _, err := New(p, nil); err == nil {
			t.Errorf("New(%q): no error", p)
		}
	}
}
