package integration

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// anatomyJSON is one side of `inspect --format json`.
type anatomyJSON struct {
	Pid        int `json:"pid"`
	Namespaces []struct {
		Kind  string `json:"kind"`
		Inode uint64 `json:"inode"`
		Own   bool   `json:"own"`
	} `json:"namespaces"`
	Cgroups []struct {
		Hierarchy   int    `json:"hierarchy"`
		Controllers string `json:"controllers"`
		Path        string `json:"path"`
	} `json:"cgroups"`
	Capabilities []struct {
		Set   string   `json:"set"`
		Mask  string   `json:"mask"`
		Names []string `json:"names"`
	} `json:"capabilities"`
	Seccomp        int      `json:"seccomp"`
	SeccompFilters int      `json:"seccomp_filters"`
	NoNewPrivs     bool     `json:"no_new_privs"`
	UIDMap         []string `json:"uid_map"`
	GIDMap         []string `json:"gid_map"`
	Rlimits        []struct {
		Resource, Soft, Hard string
	} `json:"rlimits"`
	Hostname string `json:"hostname"`
	Mounts   []struct {
		Point       string `json:"mount_point"`
		Type        string `json:"fstype"`
		Propagation string `json:"propagation"`
	} `json:"mounts"`
	Sources map[string]string `json:"sources"`
}

// TestLearnerInspectsContainerAnatomy: `inspect` shows what makes the
// container's process a container, beside the host, and every value is
// the one the kernel's own files show for that process.
func TestLearnerInspectsContainerAnatomy(t *testing.T) {
	b := newBundle(t, "inspect", "sh", "-c", "sleep 1000 & wait")
	b.spec.Hostname = "box"
	b.spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](16)},
	}
	b.spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"chroot"}, Action: specs.ActErrno}}}
	b.write()
	b.mustDetached("run", "-d", "--bundle", b.dir, b.id)
	pid := b.state(b.id).Pid
	proc := "/proc/" + strconv.Itoa(pid)
	var procs string
	for i := 0; i < 500 && strings.Count(procs, "\n") < 1; i++ { // the init and its sleep
		time.Sleep(10 * time.Millisecond)
		procs = readTrim(t, cgFile(b.spec.Linux.CgroupsPath, "pids", "cgroup.procs", "cgroup.procs"))
	}

	r := b.must("inspect", "--format", "json", b.id)
	var a struct {
		ID          string      `json:"id"`
		Status      string      `json:"status"`
		Container   anatomyJSON `json:"container"`
		Host        anatomyJSON `json:"host"`
		CgroupFiles []struct {
			Path, Value string
		} `json:"cgroup_files"`
		Processes []struct {
			Pid     int    `json:"pid"`
			NSPid   int    `json:"ns_pid"`
			Command string `json:"command"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
		t.Fatalf("inspect --format json: %v\n%s", err, r.stdout)
	}
	c := a.Container
	if a.ID != b.id || a.Status != "running" || c.Pid != pid {
		t.Errorf("id %q status %q pid %d, want %s running %d", a.ID, a.Status, c.Pid, b.id, pid)
	}
	// Namespaces: the inode /proc has; own exactly for the kinds the
	// spec asks for (runc's default: no user or cgroup... namespace).
	ownKinds := map[string]bool{}
	for _, n := range b.spec.Linux.Namespaces {
		k := string(n.Type)
		switch k {
		case "mount":
			k = "mnt"
		case "network":
			k = "net"
		}
		ownKinds[k] = true
	}
	if len(c.Namespaces) < 7 {
		t.Errorf("namespaces: %v", c.Namespaces)
	}
	for _, n := range c.Namespaces {
		if want := nsInode(t, strconv.Itoa(pid), n.Kind); !strings.Contains(want, "["+strconv.FormatUint(n.Inode, 10)+"]") {
			t.Errorf("namespace %s inode %d, /proc says %s", n.Kind, n.Inode, want)
		}
		if n.Own != ownKinds[n.Kind] {
			t.Errorf("namespace %s: own %v, the spec asks for %v", n.Kind, n.Own, ownKinds[n.Kind])
		}
	}
	// Cgroups: the lines of /proc/PID/cgroup; the limits and use files.
	if lines := strings.Split(readTrim(t, proc+"/cgroup"), "\n"); len(lines) != len(c.Cgroups) {
		t.Errorf("cgroups %v, /proc/PID/cgroup has %d lines", c.Cgroups, len(lines))
	}
	files := map[string]string{}
	for _, f := range a.CgroupFiles {
		files[f.Path] = f.Value
	}
	p := b.spec.Linux.CgroupsPath
	for file, want := range map[string]string{
		cgFile(p, "memory", "memory.limit_in_bytes", "memory.max"): "67108864",
		cgFile(p, "pids", "pids.max", "pids.max"):                  "16",
		cgFile(p, "pids", "pids.current", "pids.current"):          "2",
	} {
		if files[file] != want {
			t.Errorf("cgroup file %s = %q, want %q", file, files[file], want)
		}
	}
	if _, ok := files[cgFile(p, "memory", "memory.usage_in_bytes", "memory.current")]; !ok {
		t.Errorf("no memory use among the cgroup files: %v", files)
	}
	// Capabilities, seccomp, no_new_privs: /proc/PID/status.
	sets := map[string]string{"inheritable": "CapInh", "permitted": "CapPrm", "effective": "CapEff", "bounding": "CapBnd", "ambient": "CapAmb"}
	if len(c.Capabilities) != 5 {
		t.Errorf("capability sets: %v", c.Capabilities)
	}
	for _, s := range c.Capabilities {
		if want := statusField(t, pid, sets[s.Set]); s.Mask != want {
			t.Errorf("%s set %s, /proc/PID/status %s %s", s.Set, s.Mask, sets[s.Set], want)
		}
		if s.Set == "bounding" && strings.Join(s.Names, ",") != "CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE" {
			t.Errorf("bounding set decoded: %v", s.Names)
		}
	}
	if c.Seccomp != 2 || strconv.Itoa(c.Seccomp) != statusField(t, pid, "Seccomp") || !c.NoNewPrivs ||
		c.SeccompFilters < 1 || strconv.Itoa(c.SeccompFilters) != statusField(t, pid, "Seccomp_filters") {
		t.Errorf("seccomp %d filters %d no_new_privs %v; status: %s %s %s", c.Seccomp, c.SeccompFilters, c.NoNewPrivs,
			statusField(t, pid, "Seccomp"), statusField(t, pid, "Seccomp_filters"), statusField(t, pid, "NoNewPrivs"))
	}
	if want := strings.Join(strings.Fields(readTrim(t, proc+"/uid_map")), " "); strings.Join(c.UIDMap, " ") != want {
		t.Errorf("uid_map %v, /proc says %q", c.UIDMap, want)
	}
	var nofile string
	for _, l := range c.Rlimits {
		if l.Resource == "Max open files" {
			nofile = l.Soft + "/" + l.Hard
		}
	}
	if nofile != "1024/1024" || len(c.Rlimits) < 16 {
		t.Errorf("rlimits %v: want Max open files 1024/1024 (the spec's RLIMIT_NOFILE)", c.Rlimits)
	}
	host, _ := os.Hostname()
	if c.Hostname != "box" || a.Host.Hostname != host {
		t.Errorf("hostname %q beside the host's %q, want box beside %q", c.Hostname, a.Host.Hostname, host)
	}
	// Mounts: the container's mountinfo, as it sees them.
	mi := strings.Split(readTrim(t, proc+"/mountinfo"), "\n")
	points := map[string]string{}
	for _, m := range c.Mounts {
		points[m.Point] = m.Type
		if m.Propagation == "" {
			t.Errorf("mount %s: no propagation", m.Point)
		}
	}
	if len(c.Mounts) != len(mi) || points["/proc"] != "proc" || points["/dev/shm"] != "tmpfs" || points["/"] == "" {
		t.Errorf("mounts %v; mountinfo has %d lines", points, len(mi))
	}
	// Processes: the init (PID 1 inside) and its sleep.
	var cmds []string
	for _, pr := range a.Processes {
		cmds = append(cmds, strconv.Itoa(pr.NSPid)+" "+pr.Command)
		if !strings.Contains(procs, strconv.Itoa(pr.Pid)) {
			t.Errorf("process %d is not in cgroup.procs %q", pr.Pid, procs)
		}
	}
	sort.Strings(cmds) // "1 sh ..." first; the sleep's PID inside is 2 or more
	if len(cmds) != 2 || cmds[0] != "1 sh -c sleep 1000 & wait" || !strings.HasSuffix(cmds[1], " sleep 1000") {
		t.Errorf("processes %q", cmds)
	}
	// Every part says where it was read.
	for _, part := range []string{"namespaces", "cgroups", "capabilities", "seccomp", "id_maps", "rlimits", "hostname", "mounts"} {
		if !strings.Contains(c.Sources[part], proc) {
			t.Errorf("source of %s: %q", part, c.Sources[part])
		}
	}

	text := b.must("inspect", b.id).stdout
	for _, want := range []string{"== namespaces", "own", "shared with the host", "CAP_NET_BIND_SERVICE", "2 (filter)",
		"hostname  box", "/dev/shm", proc + "/mountinfo", "sh -c sleep 1000 & wait"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect text has no %q:\n%s", want, text)
		}
	}

	b.must("kill", b.id, "KILL")
	b.waitStatus(b.id, "stopped")
	b.fail([]string{"inspect", b.id}, `inspect "`+b.id+`": container is not running`)
	b.fail([]string{"inspect", "nosuch"}, `inspect "nosuch": container does not exist`)
	b.must("delete", b.id)
	b.wantNothingLeft()
}
