package caps

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzCapabilityNames: capability names from config.json and the command
// line. A name either parses to a capability whose canonical name parses
// back to it, or fails with ErrUnknown in one line; lists and masks hold
// only what parses; a spec's sets are subsets of the kernel's.
func FuzzCapabilityNames(f *testing.F) {
	for _, s := range []string{
		"CAP_SYS_ADMIN", "sys_admin", " cap_chown ", "CAP_41", "CAP_63", "CAP_64", "CAP_-1", "CAP_+5", "CAP_", "",
		"CAP_99999999999999999999", "all", "none", "runc-default", "docker-default", "CAP_CHOWN,CAP_KILL,,",
		"cap_sys_admin\n", "CAP_SYS_ADMIN\x00", "CAP_CHOWN,all", "000001fffeffffff", "0x3", "0xfffffffffffffffff",
		"CAP_LAST_CAP", "CAP_WAKE_ALARM", "CAP_CHECKPOINT_RESTORE", "cap_ſys_admin",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrUnknown) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Parse(%q): error %q is not one line of ErrUnknown", s, err)
			}
		} else {
			if c < 0 || c > MaxCap {
				t.Fatalf("Parse(%q) = %d, out of 0-%d", s, c, MaxCap)
			}
			name := Name(c)
			if back, err := Parse(name); err != nil || back != c || name != strings.ToUpper(name) || !strings.HasPrefix(name, "CAP_") {
				t.Fatalf("Parse(%q) = %d named %q, which parses to %d, %v", s, c, name, back, err)
			}
		}

		names, err := parseList(s, func() (Cap, error) { return 40, nil })
		if err == nil {
			for _, n := range names {
				if c, err := Parse(n); err != nil || Name(c) != n {
					t.Fatalf("parseList(%q) gave %q, not a canonical name (%v)", s, n, err)
				}
			}
		} else if strings.Contains(err.Error(), "\n") {
			t.Fatalf("parseList(%q): error is not one line: %q", s, err)
		}

		if m, err := ParseMask(s); err == nil {
			if back, err := ParseMask(m.String()); err != nil || back != m {
				t.Fatalf("ParseMask(%q) = %s, which parses to %s, %v", s, m, back, err)
			}
		} else if strings.Contains(err.Error(), "\n") {
			t.Fatalf("ParseMask(%q): error is not one line: %q", s, err)
		}

		list := strings.Split(s, ",")
		set, err := fromSpec(&specs.LinuxCapabilities{Bounding: list, Permitted: list, Effective: list}, 40)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("fromSpec(%q): error is not one line: %q", s, err)
			}
			return
		}
		if set.Bounding&^UpTo(40) != 0 || set.Effective&^set.Permitted != 0 {
			t.Fatalf("fromSpec(%q): bounding %s beyond the kernel's last (40), or effective %s not in permitted %s", s, set.Bounding, set.Effective, set.Permitted)
		}
	})
}
