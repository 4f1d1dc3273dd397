package process

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/step"
)

// ValidateSysctls checks each name the way runc does
// (libcontainer/configs/validate): a container may only set sysctls that
// the kernel keeps per namespace, and only for a namespace it has of its
// own; anything else would change the host for everyone.
//
//	kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*  IPC namespace
//	net.*                                           network namespace
//	kernel.hostname, kernel.domainname              UTS namespace
func ValidateSysctls(sysctl map[string]string, nss []specs.LinuxNamespace) error {
	for _, name := range sortedKeys(sysctl) {
		if err := ValidateSysctl(name, nss); err != nil {
			return err
		}
		if strings.ContainsAny(sysctl[name], "\x00") {
			return fmt.Errorf("sysctl %s: value contains a NUL byte", name)
		}
	}
	return nil
}

// ValidateSysctl checks one name (see ValidateSysctls).
func ValidateSysctl(name string, nss []specs.LinuxNamespace) error {
	if _, err := SysctlPath(name); err != nil {
		return err
	}
	var need specs.LinuxNamespaceType
	switch {
	case strings.HasPrefix(name, "kernel.msg"), name == "kernel.sem", strings.HasPrefix(name, "kernel.shm"),
		strings.HasPrefix(name, "fs.mqueue."):
		need = specs.IPCNamespace
	case strings.HasPrefix(name, "net."):
		need = specs.NetworkNamespace
	case name == "kernel.hostname", name == "kernel.domainname":
		need = specs.UTSNamespace
	default:
		return fmt.Errorf("sysctl %s is not namespaced: setting it in a container would change the host", name)
	}
	if !hasNamespace(nss, need) {
		return fmt.Errorf("sysctl %s needs a %s namespace of its own: in the host's it would change the host", name, need)
	}
	return nil
}

// SysctlPath turns kernel.shmmax into sys/kernel/shmmax (relative to the
// procfs root). A name that could walk out of /proc/sys is refused.
func SysctlPath(name string) (string, error) {
	if strings.Contains(name, "..") {
		return "", fmt.Errorf("sysctl %q: name contains \"..\"", name)
	}
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("sysctl %q: want a dotted name like net.ipv4.ip_forward", name)
	}
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return "", fmt.Errorf("sysctl %q: empty component", name)
		}
	}
	return "sys/" + strings.Join(parts, "/"), nil
}

func sysctlSteps(proc string, sysctl map[string]string) []step.Step {
	var s []step.Step
	for _, name := range sortedKeys(sysctl) {
		rel, _ := SysctlPath(name) // validated by Resolve
		val := sysctl[name]
		s = append(s, step.Step{
			Op:   "write " + proc + "/" + rel,
			Args: fmt.Sprintf("%q", val),
			Why:  "sysctl " + name + " of the container's own namespace, through a checked procfs",
			Do: func() error {
				return procfs.Write(proc, rel, val)
			},
			ReadBack: func() (string, error) { return procfs.Read(proc, rel) },
		})
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
