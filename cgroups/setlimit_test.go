package cgroups

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SetLimit puts each command-line limit in its linux.resources field and
// refuses a bad value with an error starting with the limit's name.
func TestSetLimit(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		want    string // linux.resources as JSON
		err     string
	}{
		{name: "memory", v: "64m", want: `{"memory":{"limit":67108864}}`},
		{name: "memory", v: "-1", want: `{"memory":{"limit":-1}}`},
		{name: "memory-swap", v: "max", want: `{"memory":{"swap":-1}}`},
		{name: "memory-reservation", v: "1g", want: `{"memory":{"reservation":1073741824}}`},
		{name: "kernel-memory", v: "1m", want: `{"memory":{"kernel":1048576}}`},
		{name: "kernel-memory-tcp", v: "1m", want: `{"memory":{"kernelTCP":1048576}}`},
		{name: "pids-limit", v: "10", want: `{"pids":{"limit":10}}`},
		{name: "cpu-shares", v: "512", want: `{"cpu":{"shares":512}}`},
		{name: "cpu-quota", v: "-1", want: `{"cpu":{"quota":-1}}`},
		{name: "cpu-period", v: "100000", want: `{"cpu":{"period":100000}}`},
		{name: "cpu-rt-period", v: "1000000", want: `{"cpu":{"realtimePeriod":1000000}}`},
		{name: "cpu-rt-runtime", v: "950000", want: `{"cpu":{"realtimeRuntime":950000}}`},
		{name: "cpuset-cpus", v: "0-1", want: `{"cpu":{"cpus":"0-1"}}`},
		{name: "cpuset-mems", v: "0", want: `{"cpu":{"mems":"0"}}`},
		{name: "cpu-weight", v: "100", want: `{"unified":{"cpu.weight":"100"}}`},
		{name: "blkio-weight", v: "500", want: `{"blockIO":{"weight":500}}`},
		{name: "memory", v: "lots", err: "memory: "},
		{name: "pids-limit", v: "ten", err: `pids-limit "ten": not an integer`},
		{name: "cpu-shares", v: "-2", err: `cpu-shares "-2": not a non-negative integer`},
		{name: "cpu-weight", v: "0", err: `cpu-weight "0": outside 1..10000`},
		{name: "cpu-weight", v: "10001", err: `cpu-weight "10001": outside 1..10000`},
		{name: "blkio-weight", v: "65536", err: `blkio-weight "65536": too large`},
		{name: "cpu-share", v: "1", err: "cpu-share: no such limit"},
	} {
		t.Run(tc.name+"="+tc.v, func(t *testing.T) {
			var r specs.LinuxResources
			err := SetLimit(&r, tc.name, tc.v)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("SetLimit = %v, want an error starting %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(&r)
			if string(got) != tc.want {
				t.Errorf("resources %s, want %s", got, tc.want)
			}
		})
	}
	// Every limit the CLI declares is one SetLimit knows.
	for _, n := range LimitNames {
		if err := SetLimit(&specs.LinuxResources{}, n, "1"); err != nil && strings.Contains(err.Error(), "no such limit") {
			t.Errorf("LimitNames holds %s, which SetLimit does not know", n)
		}
	}
}

func TestParseWeightDevice(t *testing.T) {
	d, err := ParseWeightDevice("8:16=500")
	if err != nil || d.Major != 8 || d.Minor != 16 || d.Weight == nil || *d.Weight != 500 {
		t.Errorf("ParseWeightDevice(8:16=500) = %+v, %v", d, err)
	}
	for _, bad := range []string{"8:16", "8=500", "x:0=1", "8:y=1", "8:0=w", "8:0=70000"} {
		if _, err := ParseWeightDevice(bad); err == nil {
			t.Errorf("ParseWeightDevice(%q) accepted", bad)
		}
	}
}
