package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ctr-lite/ctr-lite/procfs"
)

// devAccess is a set of device accesses, the kernel's ACC_* bits of the
// v1 device controller.
type devAccess uint8

const (
	accRead devAccess = 1 << iota
	accWrite
	accMknod
	accAll = accRead | accWrite | accMknod
)

// parseAccess gives the set an "rwm" string names; other letters are
// ignored (the callers have checked them).
func parseAccess(s string) devAccess {
	var a devAccess
	for _, c := range s {
		switch c {
		case 'r':
			a |= accRead
		case 'w':
			a |= accWrite
		case 'm':
			a |= accMknod
		}
	}
	return a
}

// String gives the set in the kernel's order, "rwm".
func (a devAccess) String() string {
	var b []byte
	for i, c := range "rwm" {
		if a&(1<<i) != 0 {
			b = append(b, byte(c))
		}
	}
	return string(b)
}

// devKey is what a v1 exception matches: a type ('b' or 'c') and the
// numbers, either of which may be devWildcard.
type devKey struct {
	typ          rune
	major, minor int64
}

// String formats the key as runc's emulator does in its errors ("{99 1 3}").
func (k devKey) String() string {
	return fmt.Sprintf("{%d %d %d}", k.typ, k.major, k.minor)
}

// devList is the state of a v1 devices cgroup as the kernel keeps it
// (security/device_cgroup.c): a default behaviour and a list of
// exceptions to it. With defaultAllow false ("allow-list" mode, what
// devices.list shows) the exceptions are what is allowed; with it true
// ("deny-list" mode, devices.list shows "a *:* rwm") they are what is
// denied. Exceptions with the same key are merged, as the kernel merges
// them.
type devList struct {
	defaultAllow bool
	except       map[devKey]devAccess
}

// devListFromRules is the state rules give when applied in order to a
// group that denies everything (a fresh group after "a *:* rwm" to
// devices.deny). It refuses what runc's emulator refuses: a rule that
// takes away part of a wildcard exception, which the kernel would
// silently ignore.
func devListFromRules(rules []DeviceRule) (*devList, error) {
	l := &devList{}
	for _, r := range rules {
		if err := l.apply(r); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// apply does what writing r to devices.allow or devices.deny does.
func (l *devList) apply(r DeviceRule) error {
	switch r.Type {
	case 'a':
		// The kernel ignores the rest of an "a" line: the group switches
		// to r's behaviour and forgets its exceptions.
		*l = devList{defaultAllow: r.Allow}
		return nil
	case 'b', 'c':
	default:
		return errorf("cannot add rule [%v] with non-cgroup type %q", r, r.Type)
	}
	k := devKey{r.Type, r.Major, r.Minor}
	switch {
	case r.Allow && l.defaultAllow:
		return wrapDevErr("unable to remove 'deny' exception", l.remove(k, r.Access))
	case r.Allow:
		l.add(k, r.Access)
	case l.defaultAllow:
		l.add(k, r.Access)
	default:
		return wrapDevErr("unable to remove 'allow' exception", l.remove(k, r.Access))
	}
	return nil
}

func wrapDevErr(text string, err error) error {
	if err == nil {
		return nil
	}
	return errorf("%s: %w", text, err)
}

func (l *devList) add(k devKey, access string) {
	if l.except == nil {
		l.except = map[devKey]devAccess{}
	}
	l.except[k] |= parseAccess(access)
}

// remove takes access away from the exception k. The kernel removes only
// an exception with exactly k's numbers, so taking a device out of a
// wildcard exception ("c 1:* rwm" then deny "c 1:3 rwm") would be a
// no-op there: refused, as runc refuses it.
func (l *devList) remove(k devKey, access string) error {
	want := parseAccess(access)
	for _, w := range []devKey{
		{k.typ, devWildcard, k.minor},
		{k.typ, k.major, devWildcard},
		{k.typ, devWildcard, devWildcard},
	} {
		if w == k {
			continue
		}
		if have := l.except[w]; have&want != 0 {
			return errorf("requested rule [%v %v] not supported by devices cgroupv1 (cannot punch hole in existing wildcard rule [%v %v])", k, access, w, have)
		}
	}
	if left := l.except[k] &^ want; left != 0 {
		l.except[k] = left
	} else {
		delete(l.except, k)
	}
	return nil
}

// keys gives the exceptions' keys ordered by major, minor, then type,
// the order runc writes them in.
// Sorted by pointer: a sort of pointers is linked already (flag's), one
// of devKey values would add its own instantiation (8 KiB).
func (l *devList) keys() []devKey {
	var ps []*devKey
	for k := range l.except {
		ps = append(ps, &k)
	}
	slices.SortFunc(ps, func(a, b *devKey) int {
		switch {
		case a.major != b.major:
			return cmpInt(a.major, b.major)
		case a.minor != b.minor:
			return cmpInt(a.minor, b.minor)
		}
		return cmpInt(int64(a.typ), int64(b.typ))
	})
	keys := make([]devKey, len(ps))
	for i, p := range ps {
		keys[i] = *p
	}
	return keys
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func (l *devList) equal(o *devList) bool {
	return l.defaultAllow == o.defaultAllow && maps.Equal(l.except, o.except)
}

// devListFromKernel parses devices.list. The file shows the allowed
// exceptions; a deny-list group shows only "a *:* rwm" (the kernel
// does not list what it denies), so such a group is read as "allow
// everything" and its deny exceptions are unknown.
func devListFromKernel(list string) (*devList, error) {
	l := &devList{}
	s := bufio.NewScanner(strings.NewReader(list))
	for s.Scan() {
		line := s.Text()
		r, err := parseDevListLine(line)
		if err != nil {
			return nil, errorf("error parsing line %q: %w", line, err)
		}
		if err := l.apply(r); err != nil {
			return nil, errorf("error adding devices.list rule: %w", err)
		}
	}
	if err := s.Err(); err != nil {
		return nil, errorf("error reading devices.list lines: %w", err)
	}
	return l, nil
}

// parseDevListLine reads "c 1:3 rwm" as an allow rule.
func parseDevListLine(line string) (DeviceRule, error) {
	f := strings.FieldsFunc(line, func(c rune) bool { return c == ' ' || c == ':' })
	if len(f) != 4 {
		return DeviceRule{}, errorf("malformed devices.list rule %s", line)
	}
	r := DeviceRule{Allow: true, Access: f[3]}
	switch f[0] {
	case "a":
		return DeviceRule{Type: 'a', Major: devWildcard, Minor: devWildcard, Access: "rwm", Allow: true}, nil
	case "b", "c":
		r.Type = rune(f[0][0])
	default:
		return r, errorf("unknown device type %q", f[0])
	}
	for i, p := range []*int64{&r.Major, &r.Minor} {
		if f[1+i] == "*" {
			*p = devWildcard
			continue
		}
		n, err := strconv.ParseUint(f[1+i], 10, 32)
		if err != nil {
			return r, errorf("invalid %s number: %w", [2]string{"major", "minor"}[i], err)
		}
		*p = int64(n)
	}
	if a := parseAccess(r.Access); a == 0 || a.String() != r.Access {
		return r, errorf("parse access mode: contained unknown modes or is empty: %q", r.Access)
	}
	return r, nil
}

// transition gives the fewest rules that take a group from l to target,
// in the order runc writes them: a switch of the default ("a *:* rwm")
// only when the defaults differ or l is a deny-list (whose exceptions
// devices.list does not show), then the accesses target drops, then the
// ones it gains. A group that keeps its default never goes through a
// moment of denying everything.
func (l *devList) transition(target *devList) []DeviceRule {
	var out []DeviceRule
	old := l.except
	if l.defaultAllow || l.defaultAllow != target.defaultAllow {
		out = append(out, DeviceRule{Type: 'a', Major: devWildcard, Minor: devWildcard, Access: "rwm", Allow: target.defaultAllow})
		old = nil
	}
	from := &devList{except: old}
	for _, k := range from.keys() {
		if dropped := old[k] &^ target.except[k]; dropped != 0 {
			out = append(out, DeviceRule{Type: k.typ, Major: k.major, Minor: k.minor, Access: dropped.String(), Allow: target.defaultAllow})
		}
	}
	for _, k := range target.keys() {
		if gained := target.except[k] &^ old[k]; gained != 0 {
			out = append(out, DeviceRule{Type: k.typ, Major: k.major, Minor: k.minor, Access: gained.String(), Allow: !target.defaultAllow})
		}
	}
	return out
}

// setDevicesV1 applies rules to the v1 devices cgroup dir
// (Documentation/admin-guide/cgroup-v1/devices.rst) as runc 1.1 does
// (its devices emulator): only the transition from what devices.list
// shows to the rules' result, a fresh group as one with processes. A
// fresh group shows "a *:* rwm" (it inherits its parent's allow-all):
// "a *:* rwm" to devices.deny, then each allowed exception once, in
// runc's order (major, minor, type), so devices.list reads back as
// runc's. A group with processes (update, `cgroup set`) never goes
// through a moment of denying everything unless its default changes.
// devices.list is then read again and must show the result (for a
// deny-list, its mode).
//
// Rules the kernel would silently ignore (a hole in a wildcard
// exception) are refused before anything is written, with runc's error.
// Inside a user namespace the controller cannot be written to and
// nothing is done, as runc does; so too when dir is "" (no devices
// hierarchy). The caller skips the controller when the config gives no
// rules (an empty list here denies every device).
func setDevicesV1(dir string, rules []DeviceRule) error {
	if dir == "" || procfs.InUserNS() {
		return nil
	}
	list, err := os.ReadFile(filepath.Join(dir, "devices.list"))
	if err != nil {
		return err
	}
	writes, target, err := devicesV1Transition(string(list), rules)
	if err != nil {
		return err
	}
	for _, r := range writes {
		if err := writeDevRule(dir, r); err != nil {
			return err
		}
	}
	list, err = os.ReadFile(filepath.Join(dir, "devices.list"))
	if err != nil {
		return err
	}
	after, err := devListFromKernel(string(list))
	if err != nil {
		return err
	}
	if !target.defaultAllow && !after.equal(target) {
		return errors.New("resulting devices cgroup doesn't precisely match target")
	}
	if target.defaultAllow != after.defaultAllow {
		return errors.New("resulting devices cgroup doesn't match target mode")
	}
	return nil
}

// devicesV1Transition gives the writes that take a group whose
// devices.list reads list to the state rules give, and that state.
func devicesV1Transition(list string, rules []DeviceRule) ([]DeviceRule, *devList, error) {
	current, err := devListFromKernel(list)
	if err != nil {
		return nil, nil, err
	}
	target, err := devListFromRules(rules)
	if err != nil {
		return nil, nil, err
	}
	return current.transition(target), target, nil
}

// writeDevRule writes r to devices.allow or devices.deny, one write(2)
// per rule as the kernel parses one rule per write.
func writeDevRule(dir string, r DeviceRule) error {
	file := filepath.Join(dir, "devices.deny")
	if r.Allow {
		file = filepath.Join(dir, "devices.allow")
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(r.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errorf("write %q to %s: %w", r.String(), file, err)
	}
	return nil
}
