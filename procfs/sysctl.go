package procfs

import (
	"maps"
	"slices"
	"strings"
)

// Sysctl is one kernel parameter (sysctl(8), config-linux.md "Sysctl")
// and the procfs file that holds it.
type Sysctl struct {
	Name  string // "net.ipv4.ip_forward"
	Path  string // relative to the procfs root: "sys/net/ipv4/ip_forward"
	Value string
}

// Sysctls turns a linux.sysctl map into the files to write, sorted by
// name (the order runc's map walk does not promise, made stable for
// --explain). An error names the first bad name (see SysctlPath). Which
// names a container may set is the caller's policy
// (process.ValidateSysctls).
func Sysctls(m map[string]string) ([]Sysctl, error) {
	out := make([]Sysctl, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		p, err := SysctlPath(name)
		if err != nil {
			return nil, err
		}
		if strings.ContainsRune(m[name], 0) {
			return nil, errorf("sysctl %s: value contains a NUL byte", name)
		}
		out = append(out, Sysctl{Name: name, Path: p, Value: m[name]})
	}
	return out, nil
}

// SysctlPath turns kernel.shmmax into sys/kernel/shmmax (relative to the
// procfs root). A name that could walk out of /proc/sys is refused.
func SysctlPath(name string) (string, error) {
	if strings.Contains(name, "..") {
		return "", errorf("sysctl %q: name contains \"..\"", name)
	}
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return "", errorf("sysctl %q: want a dotted name like net.ipv4.ip_forward", name)
	}
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return "", errorf("sysctl %q: empty component", name)
		}
	}
	return "sys/" + strings.Join(parts, "/"), nil
}
