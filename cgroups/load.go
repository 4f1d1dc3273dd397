package cgroups

import (
	"errors"
	"maps"
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
	return &Manager{path: path, mode: mode, res: res, dirs: maps.Clone(dirs)}, nil
}

// None is the Manager of a container that has no cgroup: a rootless one
// that could make its group in no hierarchy (SetRootless). It exists
// nowhere, holds no process, is never frozen; joining it does nothing.
func None(path string, mode Mode) *Manager {
	return &Manager{path: path, mode: mode, dirs: map[string]string{}, rootless: true}
}
