package cgroups

import (
	"errors"
	"fmt"
	"maps"

	lcg "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
)

// DirMap is the group's directory in each hierarchy ("memory", ...; ""
// for cgroup2), as the kernel placed it when the Manager was made. A
// runtime stores it with the container: a relative path resolves against
// the caller's own cgroup, and the next command may run in another.
func (m *Manager) DirMap() map[string]string { return maps.Clone(m.dirs) }

// Load is a Manager for a group that exists, from the directories
// DirMap gave: no path resolution, no /proc/self/mountinfo parsing, so
// `state` and `list` stay cheap.
func Load(path string, mode Mode, dirs map[string]string) (*Manager, error) {
	if len(dirs) == 0 {
		return nil, errors.New("cgroup " + path + ": no directories")
	}
	res, err := ToResources(nil, mode)
	if err != nil {
		return nil, err
	}
	m := &Manager{path: path, mode: mode, res: res, dirs: maps.Clone(dirs)}
	cg := &lcg.Cgroup{Path: path, Resources: res}
	if mode == Unified {
		lib, err := fs2.NewManager(cg, dirs[""])
		if err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", path, err)
		}
		m.lib = lib
		return m, nil
	}
	lib, err := fs.NewManager(cg, maps.Clone(dirs))
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	m.lib = lib
	return m, nil
}

// None is the Manager of a container that has no cgroup: a rootless one
// that could make its group in no hierarchy (SetRootless). It exists
// nowhere, holds no process, is never frozen; joining it does nothing.
func None(path string, mode Mode) *Manager {
	return &Manager{path: path, mode: mode, dirs: map[string]string{}, rootless: true}
}
