package cgroups

// Differential tests: ctr-lite's own device rules (devrule.go,
// devices_v1.go, devices_v2.go) against runc's, github.com/opencontainers/cgroups
// (used here only, never linked into the binary). Its filter compiler and
// its v1 final check switch are unexported; go:linkname reaches them.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	_ "unsafe" // go:linkname

	"github.com/cilium/ebpf/asm"
	lcg "github.com/opencontainers/cgroups"
	_ "github.com/opencontainers/cgroups/devices" // sets lcg.DevicesSetV1/V2
	devcfg "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

//go:linkname libDeviceFilter github.com/opencontainers/cgroups/devices.deviceFilter
func libDeviceFilter(rules []*devcfg.Rule) (asm.Instructions, string, error)

//go:linkname libSkipFinalCheck github.com/opencontainers/cgroups/devices.testingSkipFinalCheck
var libSkipFinalCheck bool

func devSpec(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major != -2 { // -2: leave unset
		d.Major = &major
	}
	if minor != -2 {
		d.Minor = &minor
	}
	return d
}

const unset = -2

var (
	specDenyAll  = specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	specAllowAll = specs.LinuxDeviceCgroup{Allow: true}
)

// runcDefaults is runc 1.1's specconv.AllowedDevices after deny-all, the
// list every container gets (container/devices.go).
var runcDefaults = []specs.LinuxDeviceCgroup{
	specDenyAll,
	devSpec(true, "c", unset, unset, "m"),
	devSpec(true, "b", unset, unset, "m"),
	devSpec(true, "c", 1, 3, "rwm"),
	devSpec(true, "c", 1, 8, "rwm"),
	devSpec(true, "c", 1, 7, "rwm"),
	devSpec(true, "c", 5, 0, "rwm"),
	devSpec(true, "c", 1, 5, "rwm"),
	devSpec(true, "c", 1, 9, "rwm"),
	devSpec(true, "c", 136, unset, "rwm"),
	devSpec(true, "c", 5, 2, "rwm"),
	devSpec(true, "c", 10, 200, "rwm"),
}

// deviceRuleSets are the rule sets both implementations are run on.
var deviceRuleSets = []struct {
	name  string
	rules []specs.LinuxDeviceCgroup
}{
	{"runc defaults", runcDefaults},
	{"runc defaults with a config rule first", append([]specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 1, 11, "w")}, runcDefaults...)},
	{"deny all", []specs.LinuxDeviceCgroup{specDenyAll}},
	{"deny all twice", []specs.LinuxDeviceCgroup{specDenyAll, specDenyAll}},
	{"allow all", []specs.LinuxDeviceCgroup{specAllowAll}},
	{"no rule but one allow (starts from deny-all)", []specs.LinuxDeviceCgroup{devSpec(true, "c", 1, 3, "rwm")}},
	{"allow all then deny some", []specs.LinuxDeviceCgroup{specAllowAll, devSpec(false, "c", 1, 3, "rwm"), devSpec(false, "b", 8, unset, "rw"), devSpec(false, "c", unset, 5, "m")}},
	{"wildcards", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", unset, unset, "m"), devSpec(true, "b", unset, unset, "rwm"), devSpec(true, "c", 136, unset, "rwm"), devSpec(true, "c", unset, 5, "r")}},
	{"type a with numbers is still every device", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "a", 1, 3, "r")}},
	{"block and char of the same numbers", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "b", 8, 0, "rwm"), devSpec(true, "c", 8, 0, "r"), devSpec(true, "b", 8, 1, "w")}},
	{"partial access merged", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 1, 3, "r"), devSpec(true, "c", 1, 3, "w"), devSpec(true, "c", 1, 5, "mr"), devSpec(true, "c", 1, 7, "rrw"), devSpec(true, "c", 1, 9, "wm")}},
	{"allow then deny part", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 1, 3, "rwm"), devSpec(false, "c", 1, 3, "w")}},
	{"allow then deny all of it", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 1, 3, "rwm"), devSpec(false, "c", 1, 3, "rwm"), devSpec(true, "c", 1, 5, "r")}},
	{"deny of what is not there", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(false, "c", 1, 3, "rwm")}},
	{"deny all in the middle resets", []specs.LinuxDeviceCgroup{devSpec(true, "c", 1, 3, "rwm"), specDenyAll, devSpec(true, "c", 1, 5, "rwm")}},
	{"allow all last", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 1, 3, "rwm"), specAllowAll}},
	{"deny-list, a deny then an allow back", []specs.LinuxDeviceCgroup{specAllowAll, devSpec(false, "c", 1, 3, "rw"), devSpec(true, "c", 1, 3, "r")}},
	{"wildcard, then a device with other access", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 1, unset, "r"), devSpec(false, "c", 1, 3, "w")}},
	{"hole in an allowed wildcard", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 1, unset, "rwm"), devSpec(false, "c", 1, 3, "rwm")}},
	{"hole in an allowed *:minor", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", unset, 3, "rw"), devSpec(false, "c", 1, 3, "w")}},
	{"hole in an allowed *:*", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "b", unset, unset, "m"), devSpec(false, "b", 8, 0, "rwm")}},
	{"hole in a denied wildcard", []specs.LinuxDeviceCgroup{specAllowAll, devSpec(false, "c", unset, unset, "r"), devSpec(true, "c", 1, 3, "r")}},
	{"hole with unordered access", []specs.LinuxDeviceCgroup{specAllowAll, devSpec(false, "c", 5, unset, "mw"), devSpec(true, "c", 5, 1, "wr")}},
	{"big numbers", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 2147483648, 4294967295, "rwm"), devSpec(true, "b", 259, 2147483647, "r")}},
	{"major above 32 bits", []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 4294967296, 1, "rwm")}},
	{"big numbers in a deny-list", []specs.LinuxDeviceCgroup{specAllowAll, devSpec(false, "c", 4294967296, 1, "rwm")}},
}

// libRules is what the library gets for the same config: the rules
// ToResources makes, in the library's type.
func libRules(t *testing.T, in []specs.LinuxDeviceCgroup) []*devcfg.Rule {
	t.Helper()
	r, err := ToResources(&specs.LinuxResources{Devices: in}, Hybrid)
	if err != nil {
		t.Fatalf("ToResources: %v", err)
	}
	var out []*devcfg.Rule
	for _, d := range r.Devices {
		out = append(out, &devcfg.Rule{Type: devcfg.Type(d.Type), Major: d.Major, Minor: d.Minor, Permissions: devcfg.Permissions(d.Access), Allow: d.Allow})
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestDeviceRulesFromSpec(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		in   []specs.LinuxDeviceCgroup
		want string // the rules' String()s, or the error
	}{
		{[]specs.LinuxDeviceCgroup{{Allow: false}}, "[a *:* rwm]"},
		{[]specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "mr"}}, "[c 1:3 mr]"},
		{[]specs.LinuxDeviceCgroup{{Type: "b", Major: i(8)}}, "[b 8:* rwm]"},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Minor: i(-1)}}, "[c *:* rwm]"},
		{[]specs.LinuxDeviceCgroup{{}, {Type: "p"}}, `devices[1]: type "p" is not a, b or c`},
		{[]specs.LinuxDeviceCgroup{{Type: "u"}}, `devices[0]: type "u" is not a, b or c`},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Major: i(-2)}}, "devices[0]: major -2 is negative"},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Minor: i(-5)}}, "devices[0]: minor -5 is negative"},
		{[]specs.LinuxDeviceCgroup{{Type: "c", Access: "rwx"}}, `devices[0]: access "rwx" is not made of r, w and m`},
	} {
		got, err := DeviceRulesFromSpec(tc.in)
		s := errString(err)
		if err == nil {
			var strs []string
			for _, r := range got {
				strs = append(strs, r.String())
			}
			s = "[" + joinStrings(strs) + "]"
		}
		if s != tc.want {
			t.Errorf("DeviceRulesFromSpec(%+v) = %s, want %s", tc.in, s, tc.want)
		}
	}
	// The same text as the library's own rule has, for every rule set.
	for _, set := range deviceRuleSets {
		ours, err := DeviceRulesFromSpec(set.rules)
		if err != nil {
			t.Fatal(err)
		}
		lib := libRules(t, set.rules)
		for i := range ours {
			if got, want := ours[i].String(), lib[i].CgroupString(); got != want {
				t.Errorf("%s: rule %d: String() = %q, library's CgroupString() = %q", set.name, i, got, want)
			}
		}
	}
}

func joinStrings(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// TestDeviceFilterIsRuncs: the eBPF program for each rule set is, byte
// for byte, the one runc's devicefilter generates (in both byte orders),
// and a set it refuses is refused with its error.
func TestDeviceFilterIsRuncs(t *testing.T) {
	for _, set := range deviceRuleSets {
		t.Run(set.name, func(t *testing.T) {
			rules, err := DeviceRulesFromSpec(set.rules)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := deviceFilter(rules)
			libInsns, license, libErr := libDeviceFilter(libRules(t, set.rules))
			if errString(err) != errString(libErr) {
				t.Fatalf("error %q, the library's %q", errString(err), errString(libErr))
			}
			if err != nil {
				return
			}
			if license != bpfLicense {
				t.Errorf("license %q, the library's %q", bpfLicense, license)
			}
			for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
				var want bytes.Buffer
				if err := libInsns.Marshal(&want, bo.(binary.ByteOrder)); err != nil {
					t.Fatal(err)
				}
				if got := marshalBPF(ours, bo); !bytes.Equal(got, want.Bytes()) {
					t.Errorf("%v: program differs from the library's:\nours:\n%s\nlibrary's:\n%v", bo, dumpBPF(got), libInsns)
				}
			}
		})
	}
}

// TestDeviceFilterMinorTooBig: a minor above 32 bits is refused; the
// library's message names the major there (a slip in its Errorf), ours
// the minor.
func TestDeviceFilterMinorTooBig(t *testing.T) {
	set := []specs.LinuxDeviceCgroup{specDenyAll, devSpec(true, "c", 7, 4294967296, "rwm")}
	rules, err := DeviceRulesFromSpec(set)
	if err != nil {
		t.Fatal(err)
	}
	_, err = deviceFilter(rules)
	_, _, libErr := libDeviceFilter(libRules(t, set))
	if errString(err) != "invalid minor 4294967296" || errString(libErr) != "invalid minor 7" {
		t.Errorf("errors %q (library %q)", errString(err), errString(libErr))
	}
}

func dumpBPF(b []byte) string {
	var s string
	for i := 0; i+8 <= len(b); i += 8 {
		s += strconv.Itoa(i/8) + ": " + bytesHex(b[i:i+8]) + "\n"
	}
	return s
}

func bytesHex(b []byte) string {
	const hex = "0123456789abcdef"
	var s []byte
	for _, c := range b {
		s = append(s, hex[c>>4], hex[c&15], ' ')
	}
	return string(s)
}

// devicesLists are devices.list contents a group may have when its
// rules are changed: a fresh v1 group (allow all), one with runc's
// defaults, one with part of them, a deny-list view.
var devicesLists = []struct{ name, list string }{
	{"empty allow-list", ""},
	{"deny-list (a fresh group)", "a *:* rwm\n"},
	{"runc defaults", "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:8 rwm\nc 1:7 rwm\nc 5:0 rwm\nc 1:5 rwm\nc 1:9 rwm\nc 136:* rwm\nc 5:2 rwm\nc 10:200 rwm\n"},
	{"partial", "c 1:3 r\nc 1:5 rw\nb 8:* m\nc 10:200 rwm\n"},
	{"other devices", "c 4:1 rwm\nb 7:0 rw\n"},
}

// TestDevicesV1TransitionIsRuncs: for each (devices.list, rules) pair the
// writes are runc's, to the same files in the same order, and a set it
// refuses is refused with its error. The library writes into FIFOs here
// (cgroups.TestMode lets it write outside cgroupfs), so each write is
// kept; its final read-back of devices.list is off, as in its own tests.
func TestDevicesV1TransitionIsRuncs(t *testing.T) {
	lcg.TestMode, libSkipFinalCheck = true, true
	t.Cleanup(func() { lcg.TestMode, libSkipFinalCheck = false, false })
	for _, list := range devicesLists {
		for _, set := range deviceRuleSets {
			t.Run(list.name+"/"+set.name, func(t *testing.T) {
				rules, err := DeviceRulesFromSpec(set.rules)
				if err != nil {
					t.Fatal(err)
				}
				writes, target, err := devicesV1Transition(list.list, rules)
				libAllow, libDeny, libErr := libV1Writes(t, list.list, libRules(t, set.rules))
				if errString(err) != errString(libErr) {
					t.Fatalf("error %q, the library's %q", errString(err), errString(libErr))
				}
				// The files' writes interleave as runc's do: first those
				// to the file of the target's default (the switch of
				// the default, the accesses dropped), then those to the
				// other (the accesses gained).
				var allow, deny []string
				for i, w := range writes {
					if i > 0 && w.Type == 'a' {
						t.Errorf("write %d switches the default (%s): only the first may", i, w)
					}
					if w.Allow != target.defaultAllow && i+1 < len(writes) && writes[i+1].Allow == target.defaultAllow {
						t.Errorf("writes %v: a gained access before a dropped one", writes)
					}
					if w.Allow {
						allow = append(allow, w.String())
					} else {
						deny = append(deny, w.String())
					}
				}
				if joinStrings(allow) != joinStrings(libAllow) || joinStrings(deny) != joinStrings(libDeny) {
					t.Errorf("writes %v\nlibrary's: devices.allow %q, devices.deny %q", writes, libAllow, libDeny)
				}
			})
		}
	}
}

// TestDevicesListParsingIsRuncs: lines devices.list cannot hold are
// refused with runc's errors.
func TestDevicesListParsingIsRuncs(t *testing.T) {
	lcg.TestMode, libSkipFinalCheck = true, true
	t.Cleanup(func() { lcg.TestMode, libSkipFinalCheck = false, false })
	rules := runcDefaults
	for _, list := range []string{"x 1:3 rwm", "c 1:3", "c 1:3 rwm extra", "c foo:3 rwm", "c 1:-3 rwm", "c 1:4294967296 rwm", "c 1:3 mr", "c 1:3 rwx", "c 1:3 rrw", "a *:* rwm\nc 1:3 rwm", "c 1:* r\na *:* rwm\n"} {
		ours, err := DeviceRulesFromSpec(rules)
		if err != nil {
			t.Fatal(err)
		}
		writes, _, err := devicesV1Transition(list, ours)
		libAllow, libDeny, libErr := libV1Writes(t, list, libRules(t, rules))
		if errString(err) != errString(libErr) {
			t.Errorf("list %q: error %q, the library's %q", list, errString(err), errString(libErr))
		}
		if err == nil && len(writes) != len(libAllow)+len(libDeny) {
			t.Errorf("list %q: writes %v, the library's %q %q", list, writes, libAllow, libDeny)
		}
	}
}

var ruleRe = regexp.MustCompile(`[abc] (\*|\d+):(\*|\d+) [rwm]+`)

// libV1Writes runs the library's v1 setter on a directory whose
// devices.list reads list and whose devices.allow and devices.deny are
// FIFOs, and gives what it wrote to each, in order.
func libV1Writes(t *testing.T, list string, rules []*devcfg.Rule) (allow, deny []string, err error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "devices.list"), []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	var fifos [2]int
	for i, name := range []string{"devices.allow", "devices.deny"} {
		p := filepath.Join(dir, name)
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		// Held open for reading (O_RDWR: the open does not wait for a
		// writer), so the library's opens do not block.
		fd, err := unix.Open(p, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		fifos[i] = fd
	}
	err = lcg.DevicesSetV1(dir, &lcg.Resources{Devices: rules})
	var got [2][]string
	for i, fd := range fifos {
		buf := make([]byte, 1<<16)
		n, rerr := unix.Read(fd, buf)
		if rerr != nil && !errors.Is(rerr, unix.EAGAIN) {
			t.Fatal(rerr)
		}
		got[i] = ruleRe.FindAllString(string(buf[:max(n, 0)]), -1)
	}
	return got[0], got[1], err
}
