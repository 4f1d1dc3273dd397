package container

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/process"
)

// validateIDs checks every uid and gid config.json gives before any of
// them reaches the kernel: process.user, the user namespace's mappings
// and mount options uid=/gid=. Each must be in 0..process.MaxID: the
// kernel reads (uid_t)-1 as "unchanged" (setresuid(2)), and a mapping
// that wraps past 2^32 maps nothing the config meant.
func validateIDs(s *specs.Spec) error {
	if s.Process != nil {
		if err := process.ValidateUser("process.user", s.Process.User); err != nil {
			return err
		}
	}
	if s.Linux != nil {
		if err := validateMappings("linux.uidMappings", s.Linux.UIDMappings); err != nil {
			return err
		}
		if err := validateMappings("linux.gidMappings", s.Linux.GIDMappings); err != nil {
			return err
		}
	}
	for i, m := range s.Mounts {
		where := fmt.Sprintf("mounts[%d] (%s)", i, m.Destination)
		if err := validateMappings(where+".uidMappings", m.UIDMappings); err != nil {
			return err
		}
		if err := validateMappings(where+".gidMappings", m.GIDMappings); err != nil {
			return err
		}
		if err := validateMountIDOptions(where, m.Options); err != nil {
			return err
		}
	}
	return nil
}

// validateMappings checks each range of a uid_map or gid_map
// (user_namespaces(7)): a size of at least 1, and both the container's
// and the host's ids, first to last, in 0..MaxID (so no sum overflows).
func validateMappings(where string, ms []specs.LinuxIDMapping) error {
	for i, m := range ms {
		w := fmt.Sprintf("%s[%d]", where, i)
		if m.Size == 0 {
			return errorf("%s: size 0 maps nothing", w)
		}
		last := uint64(m.Size) - 1
		if err := process.CheckID(w+" containerID", uint64(m.ContainerID)); err != nil {
			return err
		}
		if err := process.CheckID(w+" hostID", uint64(m.HostID)); err != nil {
			return err
		}
		if err := process.CheckID(w+" containerID+size-1", uint64(m.ContainerID)+last); err != nil {
			return err
		}
		if err := process.CheckID(w+" hostID+size-1", uint64(m.HostID)+last); err != nil {
			return err
		}
	}
	return nil
}

// validateMountIDOptions checks the uid= and gid= options of a mount
// (tmpfs(5), devpts, ...): a decimal id in 0..MaxID.
func validateMountIDOptions(where string, opts []string) error {
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok || (k != "uid" && k != "gid") {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return errorf("%s: option %s: %q is not a decimal id: %w", where, o, v, process.ErrIDRange)
		}
		if err := process.CheckID(where+" option "+k, n); err != nil {
			return err
		}
	}
	return nil
}
