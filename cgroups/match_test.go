package cgroups

import (
	"regexp"
	"testing"
)

// isCpusetList and isUnifiedKey are the regexps they were, by hand: each
// agrees with its regexp on every input.
var (
	cpusetRegexp  = regexp.MustCompile(`^\d+(-\d+)?(,\d+(-\d+)?)*$`)
	unifiedRegexp = regexp.MustCompile(`^[a-z_]+\.[a-z0-9_.]+$`)
	matchSeeds    = []string{"", "0", "0-3", "0-3,5", "0,1,2", "1-2-3", ",", "0,", ",0", "0-", "-0", "0--1", "0-3,,5",
		"a", "٣", "0 ", " 0", "0\n", "0-3,5-7,9", "memory.high", "memory.", ".high", "memory..high", "io.max",
		"cpu.weight.nice", "Memory.high", "memory.High", "memory_x.y_1", "memory", "a.b.c.", "hugetlb.2MB.max",
		"rdma.max", "9.a", "a.9", "_._", "a.b\n"}
)

func TestMatchersAgreeWithRegexps(t *testing.T) {
	for _, s := range matchSeeds {
		checkMatchers(t, s)
	}
}

func FuzzMatchers(f *testing.F) {
	for _, s := range matchSeeds {
		f.Add(s)
	}
	f.Fuzz(checkMatchers)
}

func checkMatchers(t *testing.T, s string) {
	if got, want := isCpusetList(s), cpusetRegexp.MatchString(s); got != want {
		t.Errorf("isCpusetList(%q) = %v, the regexp says %v", s, got, want)
	}
	if got, want := isUnifiedKey(s), unifiedRegexp.MatchString(s); got != want {
		t.Errorf("isUnifiedKey(%q) = %v, the regexp says %v", s, got, want)
	}
}
