package process

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestRlimitTable: the names are sorted and unique (RlimitNames is the
// table's order) and map to the kernel's resource numbers.
func TestRlimitTable(t *testing.T) {
	names := RlimitNames()
	if len(names) != 16 || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("RlimitNames() = %v: want 16 sorted unique names", names)
	}
	for name, want := range map[string]int{"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME} {
		if got, ok := rlimitResource(name); !ok || got != want {
			t.Errorf("rlimitResource(%s) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if _, ok := rlimitResource("RLIMIT_NOPE"); ok {
		t.Error("RLIMIT_NOPE known")
	}
	for c, want := range map[specs.IOPriorityClass]uintptr{specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3, "IOPRIO_CLASS_NONE": 0} {
		if got, ok := ioprioClass(c); got != want || ok != (want != 0) {
			t.Errorf("ioprioClass(%s) = %d, %v; want %d", c, got, ok, want)
		}
	}
}
