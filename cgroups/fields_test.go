package cgroups

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestEveryResourcesFieldHasAController(t *testing.T) {
	typ := reflect.TypeOf(Resources{})
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Name
		ctrl, ok := fieldController()[name]
		if !ok && !slices.Contains(notLimits, name) {
			t.Errorf("Resources.%s: in neither fieldController nor notLimits: no step would write it", name)
		}
		if ok && ctrl != "unified" && !slices.Contains(controllerOrder, ctrl) {
			t.Errorf("Resources.%s: controller %q is not in controllerOrder: setSteps never visits it", name, ctrl)
		}
	}
}

// limitFields are the non-zero limit fields of r, by name.
func limitFields(r *Resources) []string {
	v := reflect.ValueOf(r).Elem()
	var names []string
	for i := 0; i < v.NumField(); i++ {
		if n := v.Type().Field(i).Name; !slices.Contains(notLimits, n) && !v.Field(i).IsZero() {
			names = append(names, n)
		}
	}
	return names
}

// fakeManager has a directory for every controller, so setSteps can be
// inspected without a kernel.
func fakeManager(mode Mode) *Manager {
	dirs := map[string]string{"": "/cg"}
	for _, c := range controllerOrder {
		dirs[c] = "/cg/" + c + "/x"
	}
	return &Manager{mode: mode, dirs: dirs}
}

// TestEachFieldAloneMakesOneStepCarryingIt gives each linux.resources
// field ToResources converts, alone, and wants exactly one step whose
// description carries the converted value (so that no field is
// converted and then never applied), or the refusal this mode gives.
func TestEachFieldAloneMakesOneStepCarryingIt(t *testing.T) {
	dev := specs.LinuxBlockIODevice{Major: 8, Minor: 0}
	thr := []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 1 << 20}}
	sizes := HugePageSizes()
	tests := []struct {
		name   string
		in     specs.LinuxResources
		want   string // in the step's Args
		v1Only bool   // refused on v2
		v2Only bool   // refused on v1/hybrid
	}{
		{"memory.limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)}}, "Memory=67108864", false, false},
		{"memory.reservation", specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: i64(32 << 20)}}, "MemoryReservation=33554432", false, false},
		{"memory.swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)}}, "MemorySwap=134217728", false, false},
		{"memory.swappiness", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(10)}}, "MemorySwappiness=10", true, false},
		{"memory.disableOOMKiller", specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: bl(true)}}, "OomKillDisable=true", true, false},
		{"cpu.shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(512)}}, "Cpu", false, false},
		{"cpu.quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(50000)}}, "CpuQuota=50000", false, false},
		{"cpu.period", specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(100000)}}, "CpuPeriod=100000", false, false},
		{"cpu.burst", specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: u64(1000)}}, "CpuBurst=1000", false, false},
		{"cpu.realtimeRuntime", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(1000)}}, "CpuRtRuntime=1000", true, false},
		{"cpu.realtimePeriod", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: u64(100000)}}, "CpuRtPeriod=100000", true, false},
		{"cpu.idle", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i64(1)}}, "CPUIdle=1", false, false},
		{"cpu.cpus", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}, "CpusetCpus=0", false, false},
		{"cpu.mems", specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "0"}}, "CpusetMems=0", false, false},
		{"pids.limit", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}, "PidsLimit=10", false, false},
		{"blockIO.weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(500)}}, "BlkioWeight=500", false, false},
		{"blockIO.leafWeight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: u16(500)}}, "BlkioLeafWeight=500", true, false},
		{"blockIO.weightDevice", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev, Weight: u16(300)}}}},
			"BlkioWeightDevice=[{Major:8 Minor:0 Weight:300 LeafWeight:0}]", false, false},
		{"blockIO.throttleReadBpsDevice", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: thr}}, "BlkioThrottleReadBpsDevice=[8:0 1048576]", false, false},
		{"blockIO.throttleWriteBpsDevice", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteBpsDevice: thr}}, "BlkioThrottleWriteBpsDevice=[8:0 1048576]", false, false},
		{"blockIO.throttleReadIOPSDevice", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadIOPSDevice: thr}}, "BlkioThrottleReadIOPSDevice=[8:0 1048576]", false, false},
		{"blockIO.throttleWriteIOPSDevice", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteIOPSDevice: thr}}, "BlkioThrottleWriteIOPSDevice=[8:0 1048576]", false, false},
		{"devices", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, "Devices=[a *:* rwm]", false, false},
		{"network.classID", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(0x100001)}}, "NetClsClassid=1048577", true, false},
		{"network.priorities", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}}}, "NetPrioIfpriomap=[eth0 5]", true, false},
		{"rdma", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(10)}}}, "Rdma={mlx5_0={HcaHandles:10}}", false, false},
		{"unified", specs.LinuxResources{Unified: map[string]string{"memory.high": "1000000"}}, "Unified={memory.high=1000000}", false, true},
	}
	if len(sizes) > 0 {
		tests = append(tests, struct {
			name           string
			in             specs.LinuxResources
			want           string
			v1Only, v2Only bool
		}{"hugepageLimits", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: sizes[0], Limit: 2 << 20}}},
			"HugetlbLimit=[{Pagesize:" + sizes[0] + " Limit:2097152}]", false, false})
	}
	for _, mode := range []Mode{Hybrid, Unified} {
		for _, tt := range tests {
			t.Run(mode.String()+"/"+tt.name, func(t *testing.T) {
				res, err := ToResources(&tt.in, mode)
				if refused := (tt.v1Only && mode == Unified) || (tt.v2Only && mode != Unified); refused {
					if err == nil {
						t.Fatalf("accepted on %s, want a refusal", mode)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(limitFields(res)) == 0 {
					t.Fatalf("converted to nothing: %+v", res)
				}
				steps := fakeManager(mode).setSteps(res)
				if len(steps) != 1 {
					t.Fatalf("%d steps, want 1: %v", len(steps), steps)
				}
				for _, f := range limitFields(res) {
					if !strings.Contains(steps[0].Args, f+"=") {
						t.Errorf("step %q lacks converted field %s", steps[0].Args, f)
					}
				}
				if !strings.Contains(steps[0].Args, tt.want) {
					t.Errorf("step %q, want it to carry %q", steps[0].Args, tt.want)
				}
				upd, err := fakeManager(mode).UpdateSteps(&tt.in)
				if err != nil || len(upd) != 2 {
					t.Errorf("update with %s alone: %d steps, %v; want the exists check and one write", tt.name, len(upd), err)
				}
			})
		}
	}
}

func TestUpdateWithNothingIsRefused(t *testing.T) {
	if _, err := fakeManager(Hybrid).UpdateSteps(&specs.LinuxResources{}); err == nil || !strings.Contains(err.Error(), "no limits given") {
		t.Errorf("empty update: %v, want \"no limits given\"", err)
	}
}

func TestIgnoredNamesKernelMemoryOnly(t *testing.T) {
	if got := Ignored(&specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: i64(1)}}); len(got) != 1 || !strings.Contains(got[0], "memory.kernel") {
		t.Errorf("Ignored(kernelTCP) = %q", got)
	}
	for _, r := range []*specs.LinuxResources{nil, {}, {Memory: &specs.LinuxMemory{Limit: i64(1 << 20)}}} {
		if got := Ignored(r); got != nil {
			t.Errorf("Ignored(%+v) = %q, want nothing", r, got)
		}
	}
}

func TestWithPartnersAddsWhatTheKernelTakesTogether(t *testing.T) {
	cur := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20)}, CPU: &specs.LinuxCPU{Quota: i64(20000), Period: u64(50000)}}
	tests := []struct {
		name string
		req  specs.LinuxResources
		want specs.LinuxResources
	}{
		{"swap takes the limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(128 << 20)}},
			specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(64 << 20), Swap: i64(128 << 20)}}},
		{"a new limit stays", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(128 << 20)}},
			specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(128 << 20)}}},
		{"quota takes the period", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(30000)}},
			specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(30000), Period: u64(50000)}}},
		{"period takes the quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(100000)}},
			specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(20000), Period: u64(100000)}}},
		{"others alone", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}}, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}}},
	}
	for _, tt := range tests {
		if got := WithPartners(&tt.req, cur); !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, *got, tt.want)
		}
	}
	if got := WithPartners(&specs.LinuxResources{}, nil); got == nil {
		t.Error("WithPartners(req, nil) = nil")
	}
}
