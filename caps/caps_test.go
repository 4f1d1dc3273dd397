package caps

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Cap
		wantErr bool
	}{
		{"CAP_SYS_ADMIN", capability.CAP_SYS_ADMIN, false},
		{"SYS_ADMIN", capability.CAP_SYS_ADMIN, false},
		{"sys_admin", capability.CAP_SYS_ADMIN, false},
		{"cap_chown", capability.CAP_CHOWN, false},
		{"Cap_Net_Bind_Service", capability.CAP_NET_BIND_SERVICE, false},
		{" kill ", capability.CAP_KILL, false},
		{"CAP_CHECKPOINT_RESTORE", capability.CAP_CHECKPOINT_RESTORE, false},
		{"CAP_41", 41, false}, // what Name prints for a number without a name
		{"CAP_63", 63, false},
		{"CAP_64", 0, true},
		{"CAP_-1", 0, true},
		{"CAP_SYS_ADMN", 0, true},
		{"SYSADMIN", 0, true},
		{"CAP_", 0, true},
		{"", 0, true},
		{"all", 0, true}, // a word of ParseList, not a name
	} {
		got, err := Parse(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `"`+tc.in+`"`) {
				t.Errorf("Parse(%q) error = %v, want ErrUnknown naming it", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestNameAndParseRoundTrip(t *testing.T) {
	for _, c := range Known() {
		n := Name(c)
		if !strings.HasPrefix(n, "CAP_") || strings.ToUpper(n) != n {
			t.Errorf("Name(%d) = %q, want CAP_UPPER", c, n)
		}
		if got, err := Parse(n); err != nil || got != c {
			t.Errorf("Parse(Name(%d)=%q) = %d, %v", c, n, got, err)
		}
	}
	if n := Name(capability.CAP_SYS_ADMIN); n != "CAP_SYS_ADMIN" {
		t.Errorf("Name(21) = %q", n)
	}
	if n := Name(Cap(len(Known()))); n != "CAP_"+strconv.Itoa(len(Known())) {
		t.Errorf("Name of the first number without a name = %q", n)
	}
}

func TestDecodeMask(t *testing.T) {
	docker, _ := DefaultNames("docker-default")
	for _, tc := range []struct {
		hex  string
		want []string
	}{
		{"3", []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE"}},
		{"0x3", []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE"}},
		{"0", []string{}},
		{"0000000000000021", []string{"CAP_CHOWN", "CAP_KILL"}},
		{"0x00000000a80425fb", docker},
		{"20000420", []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"}},
		{"0000010000000000", []string{"CAP_CHECKPOINT_RESTORE"}},
		{"8000000000000000", []string{"CAP_63"}},
	} {
		m, err := ParseMask(tc.hex)
		if err != nil {
			t.Errorf("ParseMask(%q): %v", tc.hex, err)
			continue
		}
		if got := m.Names(); !sameSet(got, tc.want) {
			t.Errorf("decode %s = %v, want %v", tc.hex, got, tc.want)
		}
	}
}

// This host: every capability of a 40-capability kernel but CAP_SYS_RESOURCE.
func TestDecodeHostMask(t *testing.T) {
	m, err := ParseMask("0x1fffeffffff")
	if err != nil {
		t.Fatal(err)
	}
	names := m.Names()
	if len(names) != 40 || m.Has(capability.CAP_SYS_RESOURCE) || !m.Has(capability.CAP_CHECKPOINT_RESTORE) {
		t.Errorf("0x1fffeffffff = %d names %v", len(names), names)
	}
	if m != UpTo(capability.CAP_CHECKPOINT_RESTORE)&^MaskOf(capability.CAP_SYS_RESOURCE) {
		t.Errorf("mask %s", m)
	}
}

func TestParseMaskRejects(t *testing.T) {
	for _, in := range []string{"", "zz", "0x", "-1", "+3", "0x1_0", "1ffffffffffffffff", "3 4"} {
		if _, err := ParseMask(in); err == nil || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParseMask(%q) error = %v, want one naming the input", in, err)
		}
	}
}

func TestMaskString(t *testing.T) {
	if s := MaskOf(capability.CAP_CHOWN, capability.CAP_KILL).String(); s != "0000000000000021" {
		t.Errorf("String = %q, want /proc's 16 digits", s)
	}
	if UpTo(40) != 0x1ffffffffff || UpTo(63) != ^Mask(0) || UpTo(0) != 1 {
		t.Errorf("UpTo wrong: %x %x %x", UpTo(40), UpTo(63), UpTo(0))
	}
}

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Mask
	}{
		{"docker-default", 0xa80425fb},
		{"runc-default", 0x20000420},
	} {
		names, ok := DefaultNames(tc.name)
		if !ok {
			t.Fatalf("no %s", tc.name)
		}
		s, err := fromSpec(defaultSpec(tc.name), 40)
		if err != nil {
			t.Fatal(err)
		}
		if s.Bounding != tc.want || s.Effective != tc.want || s.Permitted != tc.want || s.Inheritable != 0 || s.Ambient != 0 {
			t.Errorf("%s (%d names) = %+v, want %s in b/e/p", tc.name, len(names), s, tc.want)
		}
	}
	if n, _ := DefaultNames("docker-default"); len(n) != 14 {
		t.Errorf("docker default has %d caps, want 14", len(n))
	}
	// Each call is a fresh value: changing one never changes the next.
	RuncDefault().Bounding[0] = "CAP_SYS_ADMIN"
	if RuncDefault().Bounding[0] != "CAP_AUDIT_WRITE" {
		t.Error("RuncDefault shares its slices")
	}
	if DockerDefault().Inheritable != nil || RuncDefault().Ambient != nil {
		t.Error("a default has inheritable or ambient capabilities")
	}
}

func TestParseStatusFixtures(t *testing.T) {
	for _, tc := range []struct {
		file    string
		want    Status
		wantErr string
	}{
		{"status", Status{Inheritable: 0x400, Permitted: 0xa80425fb, Effective: 0xa80425fb, Bounding: 0x1fffeffffff, Ambient: 0x400}, ""},
		{"status-linux-4.2", Status{Inheritable: 0x400, Permitted: 0xa80425fb, Effective: 0xa80425fb, Bounding: 0x1fffeffffff}, ""},
		{"status-no-capeff", Status{}, "no CapEff line"},
		{"status-bad-mask", Status{}, `CapBnd: bad capability mask "\tzz"`},
	} {
		f, err := os.Open("testdata/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseStatus(f)
		f.Close()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.file, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.file, got, err, tc.want)
		}
	}
}

// ReadStatus agrees with capget(2), a second way the kernel reports the
// same sets (of the calling thread: both are per-thread).
func TestReadStatusMatchesCapget(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st, err := ReadStatus(0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := capability.NewPid2(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		which capability.CapType
		m     Mask
	}{
		{capability.EFFECTIVE, st.Effective},
		{capability.PERMITTED, st.Permitted},
		{capability.INHERITABLE, st.Inheritable},
		{capability.BOUNDING, st.Bounding},
	} {
		for cp := Cap(0); cp <= MaxCap; cp++ {
			if c.Get(tc.which, cp) != tc.m.Has(cp) {
				t.Errorf("%s %s: capget says %v, /proc says %v", tc.which, Name(cp), c.Get(tc.which, cp), tc.m.Has(cp))
			}
		}
	}
	if _, err := ReadStatus(1 << 30); err == nil || !strings.Contains(err.Error(), "pid 1073741824") {
		t.Errorf("ReadStatus of no process: %v", err)
	}
}

func TestLastCapMatchesKernel(t *testing.T) {
	last, err := LastCap()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := capability.LastCap()
	if err != nil {
		t.Fatal(err)
	}
	if last != probe {
		t.Errorf("cap_last_cap %d, prctl probe %d", last, probe)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
