package process

import (
	"fmt"
	"maps"
	"slices"
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
	for _, name := range slices.Sorted(maps.Keys(sysctl)) {
		if err := ValidateSysctl(name, nss); err != nil {
			return err
		}
		if strings.ContainsRune(sysctl[name], 0) {
			return errorf("sysctl %s: value contains a NUL byte", name)
		}
	}
	return nil
}

// ValidateSysctl checks one name (see ValidateSysctls).
func ValidateSysctl(name string, nss []specs.LinuxNamespace) error {
	if _, err := procfs.SysctlPath(name); err != nil {
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
		return errorf("sysctl %s is not namespaced: setting it in a container would change the host", name)
	}
	if !hasNamespace(nss, need) {
		return errorf("sysctl %s needs a %s namespace of its own: in the host's it would change the host", name, need)
	}
	return nil
}

func sysctlSteps(proc string, sysctl map[string]string) []step.Step {
	ws, _ := procfs.Sysctls(sysctl) // validated by Resolve
	var s []step.Step
	for _, w := range ws {
		s = append(s, step.Step{
			Op:   "write " + proc + "/" + w.Path,
			Args: fmt.Sprintf("%q", w.Value),
			Why:  "sysctl " + w.Name + " of the container's own namespace, through a checked procfs",
			Do: func() error {
				return procfs.Write(proc, w.Path, w.Value)
			},
			ReadBack: func() (string, error) { return procfs.Read(proc, w.Path) },
		})
	}
	return s
}
