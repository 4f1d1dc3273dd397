package caps

import (
	"errors"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Set is the five sets a container's process gets: the validated form of
// the OCI process.capabilities object. Build it with FromSpec.
//
// A nil *Set means "leave the capabilities as they are", which is what
// runc does when process.capabilities is absent: its steps are none.
type Set struct {
	Bounding    Mask `json:"bounding,omitempty"`
	Effective   Mask `json:"effective,omitempty"`
	Permitted   Mask `json:"permitted,omitempty"`
	Inheritable Mask `json:"inheritable,omitempty"`
	Ambient     Mask `json:"ambient,omitempty"`
	// Ignored lists the names left out of the masks, as runc does: those
	// the running kernel does not have (newer than it) and those nobody
	// knows. The caller should warn about them.
	Ignored []string `json:"ignored,omitempty"`
	// Unraisable are the ambient capabilities the spec asked for that
	// are not in both permitted and inheritable: PR_CAP_AMBIENT_RAISE
	// would refuse them. runc warns and goes on (its own `runc spec`
	// lists ambient capabilities without inheritable ones), so they are
	// left out of Ambient; the caller should warn.
	Unraisable Mask `json:"unraisable,omitempty"`
	// Last is the kernel's highest capability (cap_last_cap), filled by
	// FromSpec; a Set sent to another process on the same kernel (a
	// runtime's plan, to its init) carries it, so that one need not read
	// it again. 0: read when needed.
	Last Cap `json:"last,omitempty"`
}

// FromSpec validates process.capabilities into a Set.
//
// Unknown names, as runc 1.1 (libcontainer/capabilities.New): a name
// this program knows but the kernel does not, and a name nobody knows
// ("CAP_SYS_ADMN", or one newer than this program), is left out and
// listed once in Set.Ignored, in the order met; the caller warns
// "ignoring unknown or unavailable capabilities". Leaving a name out of
// these grant lists only ever grants less.
//
// Inheritable and ambient are whatever the spec says, empty when absent:
// nothing is added to them (CVE-2022-29162: a non-empty inheritable set
// let a program with file capabilities gain them inside the container).
//
// nil gives a nil *Set: keep the capabilities unchanged.
func FromSpec(c *specs.LinuxCapabilities) (*Set, error) {
	if c == nil {
		return nil, nil
	}
	last, err := LastCap()
	if err != nil {
		return nil, err
	}
	return fromSpec(c, last)
}

func fromSpec(c *specs.LinuxCapabilities, last Cap) (*Set, error) {
	s := &Set{Last: last}
	ignored := map[string]bool{}
	lists := []struct {
		name  string
		names []string
		mask  *Mask
	}{
		{"bounding", c.Bounding, &s.Bounding},
		{"effective", c.Effective, &s.Effective},
		{"permitted", c.Permitted, &s.Permitted},
		{"inheritable", c.Inheritable, &s.Inheritable},
		{"ambient", c.Ambient, &s.Ambient},
	}
	for _, l := range lists {
		for _, n := range l.names {
			cp, err := Parse(n)
			if errors.Is(err, ErrUnknown) || err == nil && cp > last {
				name := n
				if err == nil {
					name = Name(cp)
				}
				if !ignored[name] {
					s.Ignored = append(s.Ignored, name)
				}
				ignored[name] = true
				continue
			}
			if err != nil {
				return nil, errorf("process.capabilities.%s: %w", l.name, err)
			}
			*l.mask |= MaskOf(cp)
		}
	}
	if bad := s.Ambient &^ (s.Permitted & s.Inheritable); bad != 0 {
		s.Unraisable, s.Ambient = bad, s.Ambient&^bad
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks what capset(2) and PR_CAP_AMBIENT_RAISE would refuse,
// so a bad config fails before any change, with the names at fault.
func (s *Set) Validate() error {
	if s == nil {
		return nil
	}
	if bad := s.Effective &^ s.Permitted; bad != 0 {
		return errorf("process.capabilities: effective %s not in permitted (capset(2) refuses an effective capability that is not permitted)", bad.describe())
	}
	if bad := s.Inheritable &^ s.Bounding; bad != 0 {
		return errorf("process.capabilities: inheritable %s not in bounding (capset(2) refuses to raise an inheritable capability outside the bounding set)", bad.describe())
	}
	if bad := s.Ambient &^ (s.Permitted & s.Inheritable); bad != 0 {
		return errorf("process.capabilities: ambient %s not in both permitted and inheritable (PR_CAP_AMBIENT_RAISE refuses it)", bad.describe())
	}
	return nil
}

// Spec is the set as an OCI process.capabilities object.
func (s *Set) Spec() *specs.LinuxCapabilities {
	if s == nil {
		return nil
	}
	return &specs.LinuxCapabilities{
		Bounding:    s.Bounding.Names(),
		Effective:   s.Effective.Names(),
		Permitted:   s.Permitted.Names(),
		Inheritable: s.Inheritable.Names(),
		Ambient:     s.Ambient.Names(),
	}
}

// ParseList reads a command-line list: comma separated names (as Parse
// takes them), or one of the words "all" (every capability of the running
// kernel), "none" or "" (empty), "runc-default", "docker-default" (see
// DefaultNames). It returns canonical names ("CAP_CHOWN"), for a
// specs.LinuxCapabilities; an unknown name is ErrUnknown, naming it.
func ParseList(list string) ([]string, error) {
	return parseList(list, LastCap)
}

func parseList(list string, lastCap func() (Cap, error)) ([]string, error) {
	names := []string{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch strings.ToLower(item) {
		case "", "none":
			continue
		case "all":
			last, err := lastCap()
			if err != nil {
				return nil, err
			}
			names = append(names, UpTo(last).Names()...)
			continue
		}
		if def, ok := DefaultNames(item); ok {
			names = append(names, def...)
			continue
		}
		c, err := Parse(item)
		if err != nil {
			return nil, err
		}
		names = append(names, Name(c))
	}
	return names, nil
}

// DefaultNames returns a well-known default list by name:
//
//   - "runc-default": what `runc spec` writes for bounding, effective and
//     permitted: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE.
//   - "docker-default": the 14 capabilities Docker (moby's
//     oci/caps/defaults.go) gives a container; mask 00000000a80425fb.
func DefaultNames(name string) ([]string, bool) {
	switch strings.ToLower(name) {
	case "runc-default":
		return []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, true
	case "docker-default":
		return []string{
			"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
			"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
			"CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
			"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
		}, true
	}
	return nil, false
}

// RuncDefault is the process.capabilities of `runc spec`: the three
// runc-default capabilities in bounding, effective and permitted, and
// nothing inheritable or ambient.
func RuncDefault() *specs.LinuxCapabilities { return defaultSpec("runc-default") }

// DockerDefault is Docker's default container capabilities in the same
// shape: docker-default in bounding, effective and permitted.
func DockerDefault() *specs.LinuxCapabilities { return defaultSpec("docker-default") }

func defaultSpec(name string) *specs.LinuxCapabilities {
	n, _ := DefaultNames(name)
	return &specs.LinuxCapabilities{
		Bounding:  append([]string(nil), n...),
		Effective: append([]string(nil), n...),
		Permitted: append([]string(nil), n...),
	}
}
