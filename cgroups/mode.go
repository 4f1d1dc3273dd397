package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Mode is how the host mounts cgroups.
type Mode int

const (
	// Legacy: only v1 hierarchies, one per controller (or group of them).
	Legacy Mode = iota
	// Hybrid: v1 controllers plus a cgroup2 hierarchy at
	// /sys/fs/cgroup/unified (controllers not bound to a v1 hierarchy).
	Hybrid
	// Unified: a single cgroup2 hierarchy at /sys/fs/cgroup.
	Unified
)

func (m Mode) String() string {
	switch m {
	case Legacy:
		return "v1"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "v2"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// HostMode tells the host's mode from the filesystem type of
// /sys/fs/cgroup (cgroup2 means unified) and /sys/fs/cgroup/unified.
func HostMode() Mode {
	var st unix.Statfs_t
	switch {
	case unix.Statfs(v2Root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC:
		return Unified
	case unix.Statfs(hybridMount, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC:
		return Hybrid
	}
	return Legacy
}

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	Version     int    // 1 or 2
	Mountpoint  string // e.g. /sys/fs/cgroup/memory
	Controllers []string
}

// Hierarchies lists the cgroup hierarchies mounted in this mount namespace
// (from /proc/thread-self/mountinfo, moby/sys/mountinfo, mount points
// unescaped): for v1 the controllers are the mount's
// options, for v2 the root's cgroup.controllers.
func Hierarchies() ([]Hierarchy, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, err
	}
	var hs []Hierarchy
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			b, err := os.ReadFile(filepath.Join(m.Mountpoint, "cgroup.controllers"))
			if err != nil {
				return nil, err
			}
			hs = append(hs, Hierarchy{Version: 2, Mountpoint: m.Mountpoint, Controllers: strings.Fields(string(b))})
			continue
		}
		h := Hierarchy{Version: 1, Mountpoint: m.Mountpoint}
		for _, o := range strings.Split(m.VFSOptions, ",") {
			if o != "rw" && o != "ro" && !strings.HasPrefix(o, "release_agent") && o != "clone_children" && o != "noprefix" && o != "xattr" {
				h.Controllers = append(h.Controllers, o)
			}
		}
		hs = append(hs, h)
	}
	return hs, nil
}
