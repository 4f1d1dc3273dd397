package cgroups

import (
	"path"
	"strings"
)

// SystemdPath turns systemd's cgroup path form "slice:prefix:name" (what
// runc --systemd-cgroup takes in linux.cgroupsPath) into the cgroupfs
// path systemd would use, so the form works on hosts without systemd:
//
//	system.slice:docker:abc  ->  /system.slice/docker-abc.scope
//	a-b.slice:p:n            ->  /a.slice/a-b.slice/p-n.scope
//	-:p:n (the root slice)   ->  /p-n.scope
//	x.slice:p:y.slice        ->  /x.slice/y.slice  (a name that is a slice)
//
// See systemd.slice(5): a dash in a slice name nests it in its parent.
func SystemdPath(p string) (string, error) {
	parts := strings.Split(p, ":")
	if len(parts) != 3 {
		return "", errorf("cgroup path %q: want slice:prefix:name", p)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	if name == "" || strings.Contains(name, "/") || strings.Contains(slice, "/") || strings.Contains(prefix, "/") {
		return "", errorf("cgroup path %q: slice, prefix and name may not contain '/', and name may not be empty", p)
	}
	dir, err := expandSlice(slice)
	if err != nil {
		return "", errorf("cgroup path %q: %w", p, err)
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		if prefix != "" {
			unit = prefix + "-" + name
		}
		unit += ".scope"
	}
	return path.Join("/", dir, unit), nil
}

// expandSlice nests a slice in its parents: "a-b-c.slice" lives in
// /a.slice/a-b.slice/a-b-c.slice; "-" (or "-.slice") is the root.
func expandSlice(slice string) (string, error) {
	if slice == "-" || slice == "-.slice" {
		return "/", nil
	}
	base, ok := strings.CutSuffix(slice, ".slice")
	if !ok || base == "" || strings.HasPrefix(base, "-") || strings.HasSuffix(base, "-") || strings.Contains(base, "--") {
		return "", errorf("invalid slice %q", slice)
	}
	var dir, prefix string
	for _, comp := range strings.Split(base, "-") {
		prefix += comp
		dir = path.Join(dir, prefix+".slice")
		prefix += "-"
	}
	return "/" + dir, nil
}
