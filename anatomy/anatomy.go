// Package anatomy reads what makes a process a container, from the
// files a learner would read by hand: its namespaces (/proc/PID/ns), its
// cgroups (/proc/PID/cgroup), its capability sets, seccomp mode and
// no_new_privs (/proc/PID/status), its user namespace's ID maps
// (/proc/PID/uid_map, gid_map), its resource limits (/proc/PID/limits),
// its hostname (uname(2) in its UTS namespace) and its mounts
// (/proc/PID/mountinfo). Each part says where it was read.
package anatomy

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/moby/sys/mountinfo"

	"github.com/ctr-lite/ctr-lite/caps"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"golang.org/x/sys/unix"
)

// Process is one process's anatomy.
type Process struct {
	Pid        int         `json:"pid"`
	Namespaces []Namespace `json:"namespaces"`
	// Cgroups are the lines of /proc/PID/cgroup: one per hierarchy.
	Cgroups      []CgroupLine `json:"cgroups"`
	Capabilities []CapSet     `json:"capabilities"`
	// Seccomp is the mode: 0 disabled, 1 strict, 2 filter (seccomp(2)).
	Seccomp        int      `json:"seccomp"`
	SeccompFilters int      `json:"seccomp_filters"`
	NoNewPrivs     bool     `json:"no_new_privs"`
	UIDMap         []string `json:"uid_map"`
	GIDMap         []string `json:"gid_map"`
	Rlimits        []Rlimit `json:"rlimits"`
	Hostname       string   `json:"hostname"`
	// Mounts are set only by Read with mounts (the host's table is long).
	Mounts []Mount `json:"mounts,omitempty"`
	// Sources says where each part was read, by part name.
	Sources map[string]string `json:"sources"`
}

// Namespace is one namespace of the process: Own when PID 1 (the host)
// is in another one of this kind.
type Namespace struct {
	Kind  string `json:"kind"`
	Inode uint64 `json:"inode"`
	Own   bool   `json:"own"`
}

// CgroupLine is one line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH"
// (v2: "0::PATH").
type CgroupLine struct {
	Hierarchy   int    `json:"hierarchy"`
	Controllers string `json:"controllers"`
	Path        string `json:"path"`
}

// CapSet is one of the five capability sets, as a mask and decoded.
type CapSet struct {
	Set   string   `json:"set"`
	Mask  string   `json:"mask"`
	Names []string `json:"names"`
}

// Rlimit is one line of /proc/PID/limits ("unlimited" or a number).
type Rlimit struct {
	Resource string `json:"resource"`
	Soft     string `json:"soft"`
	Hard     string `json:"hard"`
	Units    string `json:"units,omitempty"`
}

// Mount is one line of /proc/PID/mountinfo (proc(5)), with its
// propagation: "shared:N", "master:N" (a slave), "unbindable", or
// "private" when there is none.
type Mount struct {
	ID          int    `json:"id"`
	Parent      int    `json:"parent"`
	Root        string `json:"root"`
	Point       string `json:"mount_point"`
	Options     string `json:"options"`
	Propagation string `json:"propagation"`
	Type        string `json:"fstype"`
	Source      string `json:"source"`
}

// Read reads process pid's anatomy; with mounts, its mount table too.
// Errors name the file that could not be read.
func Read(pid int, mounts bool) (*Process, error) {
	proc := "/proc/" + strconv.Itoa(pid)
	p := &Process{Pid: pid, Sources: map[string]string{
		"namespaces":   proc + "/ns/* (stat: the same inode is the same namespace)",
		"cgroups":      proc + "/cgroup",
		"capabilities": proc + "/status CapInh CapPrm CapEff CapBnd CapAmb",
		"seccomp":      proc + "/status Seccomp Seccomp_filters NoNewPrivs",
		"id_maps":      proc + "/uid_map " + proc + "/gid_map",
		"rlimits":      proc + "/limits",
		"hostname":     "uname(2) after setns(2) into " + proc + "/ns/uts",
	}}
	ns, err := namespaces.Show(pid)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		p.Namespaces = append(p.Namespaces, Namespace{Kind: n.Name, Inode: n.Inode, Own: !n.Shared})
	}
	if p.Cgroups, err = readCgroups(proc + "/cgroup"); err != nil {
		return nil, err
	}
	st, err := caps.ReadStatus(pid)
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		m    caps.Mask
	}{{"inheritable", st.Inheritable}, {"permitted", st.Permitted}, {"effective", st.Effective},
		{"bounding", st.Bounding}, {"ambient", st.Ambient}} {
		p.Capabilities = append(p.Capabilities, CapSet{Set: s.name, Mask: s.m.String(), Names: s.m.Names()})
	}
	if err := p.readStatus(proc + "/status"); err != nil {
		return nil, err
	}
	if p.UIDMap, err = readLines(proc + "/uid_map"); err != nil {
		return nil, err
	}
	if p.GIDMap, err = readLines(proc + "/gid_map"); err != nil {
		return nil, err
	}
	if p.Rlimits, err = readLimits(proc + "/limits"); err != nil {
		return nil, err
	}
	if p.Hostname, err = Hostname(pid); err != nil {
		return nil, err
	}
	if mounts {
		p.Sources["mounts"] = proc + "/mountinfo"
		if p.Mounts, err = ReadMountinfo(proc + "/mountinfo"); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func readCgroups(file string) ([]CgroupLine, error) {
	lines, err := readLines(file)
	if err != nil {
		return nil, err
	}
	var out []CgroupLine
	for _, l := range lines {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			return nil, errorf("%s: bad line %q", file, l)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, errorf("%s: bad line %q", file, l)
		}
		out = append(out, CgroupLine{Hierarchy: id, Controllers: f[1], Path: f[2]})
	}
	return out, nil
}

// readStatus reads Seccomp, Seccomp_filters (Linux 5.9+) and NoNewPrivs
// (4.10+) from /proc/PID/status.
func (p *Process) readStatus(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Seccomp":
			p.Seccomp, err = strconv.Atoi(v)
		case "Seccomp_filters":
			p.SeccompFilters, err = strconv.Atoi(v)
		case "NoNewPrivs":
			p.NoNewPrivs = v == "1"
		}
		if err != nil {
			return errorf("%s: %s: %w", file, k, err)
		}
	}
	return sc.Err()
}

// readLines reads a file's lines, each with its fields joined by one
// space (uid_map pads its columns).
func readLines(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.Join(f, " "))
		}
	}
	return out, nil
}

// limitLine splits a line of /proc/PID/limits, "Max open files
// 1024                 1048576              files": the resource name
// (which has single spaces), then two spaces or more, then the soft and
// hard limits and the optional units. It is the regexp
// ^(\S.*?)\s{2,}(\S+)\s+(\S+)(?:\s+(\S+))?\s*$ written out (package regexp
// stays out of the binary): the name is as short as can be, so the last
// three fields are limits and units when a gap of two or more spaces
// comes before them, else the last two are the limits. ok is false for a
// line of another shape.
func limitLine(l string) (name, soft, hard, units string, ok bool) {
	// Fields and the blank run before each, as the regexp's \s sees blanks.
	type field struct{ start, end, gap int }
	var fs []field
	for i := 0; i < len(l); {
		j := i
		for j < len(l) && isBlank(l[j]) {
			j++
		}
		if j == len(l) {
			break
		}
		k := j
		for k < len(l) && !isBlank(l[k]) {
			k++
		}
		fs = append(fs, field{j, k, j - i})
		i = k
	}
	if len(fs) == 0 || fs[0].gap != 0 {
		return "", "", "", "", false
	}
	for _, n := range []int{3, 2} { // values after the name: soft, hard[, units]
		first := len(fs) - n
		if first < 1 || fs[first].gap < 2 {
			continue
		}
		v := func(i int) string { return l[fs[i].start:fs[i].end] }
		name, soft, hard = l[:fs[first-1].end], v(first), v(first+1)
		if strings.Contains(name, "\n") { // the regexp's "." is not a newline
			return "", "", "", "", false
		}
		if n == 3 {
			units = v(first + 2)
		}
		return name, soft, hard, units, true
	}
	return "", "", "", "", false
}

// isBlank is the regexp \s: tab, newline, form feed, carriage return, space.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func readLimits(file string) ([]Rlimit, error) {
	lines, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []Rlimit
	for i, l := range strings.Split(string(lines), "\n") {
		if i == 0 || strings.TrimSpace(l) == "" { // the header
			continue
		}
		name, soft, hard, units, ok := limitLine(l)
		if !ok {
			return nil, errorf("%s: bad line %q", file, l)
		}
		out = append(out, Rlimit{Resource: name, Soft: soft, Hard: hard, Units: units})
	}
	return out, nil
}

// Hostname is the hostname in process pid's UTS namespace: uname(2) on a
// thread that joins it with setns(2) and then returns to its own. The
// /proc/sys/kernel/hostname file would show the reader's namespace.
func Hostname(pid int) (string, error) {
	target, err := os.Open(namespaces.UTS.ProcPath(pid))
	if err != nil {
		return "", err
	}
	defer target.Close()
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/uts")
	if err != nil {
		runtime.UnlockOSThread()
		return "", err
	}
	defer self.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWUTS); err != nil {
		runtime.UnlockOSThread()
		return "", errorf("setns %s: %w", target.Name(), err)
	}
	var u unix.Utsname
	uerr := unix.Uname(&u)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWUTS); err != nil {
		// The thread stays locked: Go ends it with the goroutine
		// rather than reuse it in the wrong namespace.
		return "", errorf("setns back to our uts namespace: %w", err)
	}
	runtime.UnlockOSThread()
	if uerr != nil {
		return "", errorf("uname: %w", uerr)
	}
	return unix.ByteSliceToString(u.Nodename[:]), nil
}

// ReadMountinfo parses a mountinfo file (proc(5)) with moby/sys/mountinfo:
// "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
// SUPEROPTIONS", the octal escapes (\040) undone.
func ReadMountinfo(file string) ([]Mount, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out, err := parseMountinfo(f)
	if err != nil {
		return nil, errorf("%s: %w", file, err)
	}
	return out, nil
}

func parseMountinfo(r io.Reader) ([]Mount, error) {
	infos, err := mountinfo.GetMountsFromReader(r, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Mount, 0, len(infos))
	for _, m := range infos {
		prop := m.Optional
		if prop == "" {
			prop = "private"
		}
		out = append(out, Mount{ID: m.ID, Parent: m.Parent, Root: m.Root, Point: m.Mountpoint, Options: m.Options,
			Propagation: prop, Type: m.FSType, Source: m.Source})
	}
	return out, nil
}
