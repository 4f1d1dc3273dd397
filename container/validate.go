package container

import (
	"errors"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/process"
)

// validateLater runs, at create, the checks that the container's init,
// exec and update would otherwise make only later: no container may
// exist that its own commands then refuse to handle.
func validateLater(spec *specs.Spec) error {
	if err := validateNamespaces(spec.Linux.Namespaces); err != nil {
		return err
	}
	if err := validateIDs(spec); err != nil {
		return err
	}
	// What the init's process setup (and every exec, which starts from
	// the same process) checks before it changes anything.
	err := process.Validate(process.Config{Process: *spec.Process, Hostname: spec.Hostname,
		Domainname: spec.Domainname, Sysctl: spec.Linux.Sysctl, Namespaces: spec.Linux.Namespaces})
	if err != nil {
		return err
	}
	if _, err := process.AttrSteps(spec.Linux.Personality, spec.Process.IOPriority); err != nil {
		return err
	}
	return nil
}

// validateNamespaces checks linux.namespaces (config-linux.md
// "Namespaces"): a known type, each type at most once ("If a namespace
// type is specified more than once, the runtime MUST generate an
// error"), and a path, if any, absolute.
func validateNamespaces(nss []specs.LinuxNamespace) error {
	seen := map[namespaces.Kind]bool{}
	for i, ns := range nss {
		k, err := namespaces.ParseKind(string(ns.Type))
		if err != nil {
			return errorf("linux.namespaces[%d]: %w", i, err)
		}
		if seen[k] {
			return errorf("linux.namespaces[%d]: namespace type %q listed twice (config-linux.md: a type given more than once is an error)", i, ns.Type)
		}
		seen[k] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return errorf("linux.namespaces[%d]: %s path %q is not absolute", i, ns.Type, ns.Path)
		}
	}
	return nil
}

// checkUnsupported refuses config.json fields this runtime does not
// implement yet, rather than run the container without them.
func checkUnsupported(spec *specs.Spec) error {
	var bad []string
	l, p := spec.Linux, spec.Process
	if len(l.TimeOffsets) > 0 {
		bad = append(bad, "linux.timeOffsets")
	}
	if len(l.NetDevices) > 0 {
		bad = append(bad, "linux.netDevices")
	}
	if l.MemoryPolicy != nil {
		bad = append(bad, "linux.memoryPolicy")
	}
	if p.Scheduler != nil {
		bad = append(bad, "process.scheduler")
	}
	if p.ExecCPUAffinity != nil {
		bad = append(bad, "process.execCPUAffinity")
	}
	for _, m := range spec.Mounts {
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			bad = append(bad, "mounts["+m.Destination+"].uidMappings (idmapped mounts)")
			break
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, ", ") + ": not supported by this runtime")
	}
	if _, err := process.AttrSteps(spec.Linux.Personality, spec.Process.IOPriority); err != nil {
		return err
	}
	return nil
}
