package check

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// v1Controllers are the controllers a v1 mount names in its super options
// ("rw,cpu,cpuacct"); anything else there (rw, name=systemd, xattr...) is
// an option.
var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "net_cls": true, "net_prio": true, "blkio": true, "perf_event": true,
	"hugetlb": true, "pids": true, "rdma": true, "misc": true,
}

// controllerWhy: why each controller matters; memory and pids are
// required (a container without them cannot be limited).
var controllerWhy = []struct {
	name, why string
	required  bool
}{
	{"memory", "memory limit; the OOM killer acts inside the container", true},
	{"pids", "process count limit: a fork bomb stays inside", true},
	{"cpu", "CPU shares, weight and quota", false},
	{"cpuset", "pin to CPUs and memory nodes", false},
	{"io", "block I/O weight and limits (v2)", false},
	{"blkio", "block I/O weight and limits (v1)", false},
	{"devices", "which device nodes the container may open (v1 file; v2 uses eBPF)", false},
	{"freezer", "pause and resume the whole container (v1; v2 has cgroup.freeze)", false},
	{"hugetlb", "huge page limits", false},
}

// DetectCgroups works out the cgroup mode and where each controller is,
// from mountinfo and the cgroup2 mount's cgroup.controllers.
func DetectCgroups(fsys fs.FS) (Cgroups, error) {
	cg := Cgroups{Mode: "none", Controllers: map[string]string{}}
	mi, err := readString(fsys, "proc/self/mountinfo")
	if err != nil {
		return cg, errorf("read /proc/self/mountinfo: %w", err)
	}
	// moby/sys/mountinfo parses proc(5)'s format and undoes the octal
	// escapes (\040 for a space) in mount points.
	mounts, err := mountinfo.GetMountsFromReader(strings.NewReader(mi), mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return cg, errorf("parse /proc/self/mountinfo: %w", err)
	}
	v1 := false
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			if cg.V2Mount == "" || m.Mountpoint == "/sys/fs/cgroup" {
				cg.V2Mount = m.Mountpoint
			}
			continue
		}
		v1 = true
		for _, o := range strings.Split(m.VFSOptions, ",") {
			if v1Controllers[o] {
				cg.Controllers[o] = "v1 " + m.Mountpoint
			}
		}
	}
	if cg.V2Mount != "" {
		ctrl, err := readString(fsys, strings.TrimPrefix(path.Join(cg.V2Mount, "cgroup.controllers"), "/"))
		if err != nil {
			return cg, errorf("read %s/cgroup.controllers: %w", cg.V2Mount, err)
		}
		for _, c := range strings.Fields(ctrl) {
			if _, onV1 := cg.Controllers[c]; !onV1 {
				cg.Controllers[c] = "v2 " + cg.V2Mount
			}
		}
	}
	switch {
	case v1 && cg.V2Mount != "":
		cg.Mode = "hybrid"
	case v1:
		cg.Mode = "v1"
	case cg.V2Mount != "":
		cg.Mode = "v2"
	}
	return cg, nil
}

func (r *Report) cgroups(h Host) {
	cg, err := DetectCgroups(h.FS)
	r.Cgroups = cg
	if err != nil {
		r.add(Missing, "cgroup", "cgroups", err.Error(), true)
		return
	}
	switch cg.Mode {
	case "none":
		r.add(Missing, "cgroup", "cgroup mode", "none: no cgroup filesystem mounted: no resource limits", true)
		return
	case "v2":
		r.add(OK, "cgroup", "cgroup mode", "v2: one unified hierarchy at "+cg.V2Mount+"; controllers: "+r.controllerList(), false)
	default:
		r.add(Warn, "cgroup", "cgroup mode",
			cg.Mode+": legacy v1 hierarchies (v2 at "+orNone(cg.V2Mount)+"): v2-only features (cgroup.kill, memory.peak, PSI, cgroup.freeze) are missing for v1 controllers; controllers: "+r.controllerList(), false)
	}
	for _, c := range controllerWhy {
		where, ok := cg.Controllers[c.name]
		switch {
		case ok:
			r.add(OK, "cgroup", "controller "+c.name, where+": "+c.why, c.required)
		case coveredElsewhere(c.name, cg):
		default:
			r.add(Missing, "cgroup", "controller "+c.name, "in no hierarchy, so no "+c.why, c.required)
		}
	}
	r.cgroupV2Features(h, cg)
}

// coveredElsewhere: io and blkio are one controller in v2 and v1; cgroup2
// has no devices, freezer or blkio controller because it does those
// itself (eBPF device filter, cgroup.freeze, io).
func coveredElsewhere(name string, cg Cgroups) bool {
	switch name {
	case "io":
		return cg.Controllers["blkio"] != ""
	case "blkio":
		return cg.Controllers["io"] != "" || cg.Mode == "v2"
	case "devices", "freezer":
		return cg.Mode == "v2"
	}
	return false
}

func (r *Report) controllerList() string {
	names := make([]string, 0, len(r.Cgroups.Controllers))
	for n := range r.Cgroups.Controllers {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// cgroupV2Features looks for cgroup.kill (Linux 5.14: kill a whole group
// at once) and memory.peak (5.19: peak memory use). Neither file is in the
// root cgroup, so look in our own group or the first child group; with
// no non-root group to look in, go by the kernel version.
func (r *Report) cgroupV2Features(h Host, cg Cgroups) {
	features := []struct {
		file, why  string
		major, min int
		controller string
	}{
		{"cgroup.kill", "killing every process of a container in one write, without PID races", 5, 14, ""},
		{"memory.peak", "reading a container's peak memory use", 5, 19, "memory"},
	}
	dir := r.v2Group(h, cg)
	for _, f := range features {
		what := "cgroup2 " + f.file
		switch {
		case cg.V2Mount == "":
			r.add(Warn, "cgroup", what, "no cgroup2 mounted: "+f.why+" is not available", false)
		case f.controller != "" && !strings.HasPrefix(cg.Controllers[f.controller], "v2 "):
			r.add(Warn, "cgroup", what, "the "+f.controller+" controller is not on cgroup2: "+f.why+" is not available", false)
		case dir != "":
			if _, err := fs.Stat(h.FS, strings.TrimPrefix(path.Join(dir, f.file), "/")); err == nil {
				r.add(OK, "cgroup", what, f.why+" (seen in "+dir+")", false)
			} else {
				r.add(Warn, "cgroup", what, "not in "+dir+": "+f.why+" is not available", false)
			}
		case atLeast(r.Kernel, f.major, f.min):
			r.add(OK, "cgroup", what, fmt.Sprintf("%s (kernel %d.%d+; no non-root cgroup2 group to look in)", f.why, f.major, f.min), false)
		default:
			r.add(Warn, "cgroup", what, fmt.Sprintf("needs Linux %d.%d: %s is not available", f.major, f.min, f.why), false)
		}
	}
}

// v2Group returns a non-root cgroup2 directory: ours (/proc/self/cgroup
// "0::/path") or else a child of the root.
func (r *Report) v2Group(h Host, cg Cgroups) string {
	if cg.V2Mount == "" {
		return ""
	}
	self, _ := readString(h.FS, "proc/self/cgroup")
	for _, line := range strings.Split(self, "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok && p != "/" && p != "" {
			return path.Join(cg.V2Mount, p)
		}
	}
	root := strings.TrimPrefix(cg.V2Mount, "/")
	// The first directory in name order, as fs.ReadDir would list them;
	// not fs.ReadDir itself: its sort of DirEntry values is a generic
	// instantiation of its own in the binary (8 KiB).
	f, err := h.FS.Open(root)
	if err != nil {
		return ""
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return ""
	}
	entries, err := d.ReadDir(-1)
	if err != nil {
		return ""
	}
	first := ""
	for _, e := range entries {
		if e.IsDir() && (first == "" || e.Name() < first) {
			first = e.Name()
		}
	}
	if first == "" {
		return ""
	}
	return path.Join(cg.V2Mount, first)
}
