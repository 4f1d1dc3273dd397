package caps

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
)

// Cap is a capability number, bit N of every set (linux/capability.h).
type Cap = capability.Cap

// MaxCap is the highest number the kernel's capability ABI (version 3,
// two 32-bit words per set) can carry.
const MaxCap = Cap(63)

// ErrUnknown is returned for a name neither this program nor the kernel
// knows.
var ErrUnknown = errors.New("unknown capability")

// byName maps "CAP_CHOWN" to 0, for every capability moby/sys/capability
// knows. Built on first use, never written after: not at every start of
// the binary (90 allocations), which most commands and inits never ask.
var byName = sync.OnceValue(func() map[string]Cap {
	m := make(map[string]Cap)
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = c
	}
	return m
})

// Known lists every capability this program has a name for, in number
// order. The running kernel may have fewer (see LastCap) or more.
func Known() []Cap {
	return capability.ListKnown()
}

// Name is the OCI/runc spelling, "CAP_SYS_ADMIN". A number this program
// has no name for (a kernel newer than moby/sys/capability) is "CAP_41",
// which Parse reads back.
func Name(c Cap) string {
	if c >= 0 && int(c) < len(Known()) {
		return "CAP_" + strings.ToUpper(c.String())
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// Parse reads a capability name as runc does, and more leniently: case
// does not matter and the CAP_ prefix is optional ("sys_admin",
// "CAP_SYS_ADMIN"). "CAP_41" (what Name prints for a capability without a
// name) is accepted up to MaxCap. Anything else is ErrUnknown, naming it.
func Parse(name string) (Cap, error) {
	s := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(s, "CAP_") {
		s = "CAP_" + s
	}
	if c, ok := byName()[s]; ok {
		return c, nil
	}
	if n, err := strconv.Atoi(s[len("CAP_"):]); err == nil && n >= 0 && n <= int(MaxCap) {
		return Cap(n), nil
	}
	return 0, errorf("%w %q", ErrUnknown, name)
}

// LastCap is the highest capability the running kernel has, read from
// /proc/sys/kernel/cap_last_cap (Linux 3.2+); without /proc it probes with
// prctl(PR_CAPBSET_READ), which fails with EINVAL past the last one.
func LastCap() (Cap, error) {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		n, perr := strconv.Atoi(strings.TrimSpace(string(data)))
		if perr == nil && n >= 0 && n <= int(MaxCap) {
			return Cap(n), nil
		}
		err = errorf("/proc/sys/kernel/cap_last_cap: bad value %q", strings.TrimSpace(string(data)))
	}
	c, perr := capability.LastCap()
	if perr != nil {
		return 0, errorf("highest capability of the kernel: %w (and %w)", err, perr)
	}
	return c, nil
}

// Mask is one capability set as the kernel stores it: bit N set means
// capability N is in the set. /proc/PID/status prints it as 16 hex digits.
type Mask uint64

// MaskOf returns the set holding cs.
func MaskOf(cs ...Cap) Mask {
	var m Mask
	for _, c := range cs {
		m |= 1 << uint(c)
	}
	return m
}

// UpTo is the full set of a kernel whose last capability is last.
func UpTo(last Cap) Mask {
	if last >= MaxCap {
		return ^Mask(0)
	}
	return 1<<(uint(last)+1) - 1
}

// ParseMask reads a hex mask as /proc/PID/status prints it or
// `capsh --decode` takes it: "000001fffeffffff", "0x3", "3".
func ParseMask(s string) (Mask, error) {
	h := strings.TrimSpace(s)
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil {
		return 0, errorf("bad capability mask %q: want up to 16 hex digits, like /proc/PID/status CapEff", s)
	}
	return Mask(v), nil
}

// Has reports whether c is in m.
func (m Mask) Has(c Cap) bool { return c >= 0 && c <= MaxCap && m&(1<<uint(c)) != 0 }

// Caps lists the capabilities in m, in number order.
func (m Mask) Caps() []Cap {
	cs := make([]Cap, 0, bits.OnesCount64(uint64(m)))
	for c := Cap(0); c <= MaxCap; c++ {
		if m.Has(c) {
			cs = append(cs, c)
		}
	}
	return cs
}

// Names lists the names of the capabilities in m, in number order; never
// nil, so it encodes as [] in JSON.
func (m Mask) Names() []string {
	names := make([]string, 0, bits.OnesCount64(uint64(m)))
	for _, c := range m.Caps() {
		names = append(names, Name(c))
	}
	return names
}

// String is the mask as /proc/PID/status prints it: 16 hex digits.
func (m Mask) String() string { return fmt.Sprintf("%016x", uint64(m)) }

// describe is the readable form used by --explain: "CAP_CHOWN,CAP_KILL"
// or "none".
func (m Mask) describe() string {
	if m == 0 {
		return "none"
	}
	return strings.Join(m.Names(), ",")
}
