package container

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ctr-lite/ctr-lite/anatomy"
	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/step"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Anatomy is what `inspect` shows: a running container's init process
// beside the host's (PID 1, or ctr-lite itself), its cgroup's limit and use files, and its
// processes.
type Anatomy struct {
	ID        string           `json:"id"`
	Status    string           `json:"status"`
	Container *anatomy.Process `json:"container"`
	Host      *anatomy.Process `json:"host"`
	// CgroupFiles are the limits and current use of the container's
	// cgroup, each with the path it was read from.
	CgroupFiles []CgroupFile `json:"cgroup_files"`
	// Processes are those in the container's cgroup.
	Processes []Proc `json:"processes"`
}

// CgroupFile is one cgroup file and its content, lines joined by "; ".
type CgroupFile struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Proc is one process of the container: its PID on the host and in the
// container's PID namespace (/proc/PID/status NSpid), its command line.
type Proc struct {
	Pid     int    `json:"pid"`
	NSPid   int    `json:"ns_pid"`
	Command string `json:"command"`
}

// useFiles are the cgroup files that count current use, beside the
// limit files cgroups.Manager.Show reads.
var useFiles = []string{
	"memory.usage_in_bytes", "memory.current", "memory.max_usage_in_bytes", "memory.peak",
	"memory.oom_control", "memory.events", "pids.current", "cpuacct.usage", "cpu.stat",
}

// Inspect reads a running (or created, or paused) container's anatomy.
// Under --explain its reads are explained (prefix "inspect").
func (r Root) Inspect(id string) (*Anatomy, error) {
	run := r.runner("inspect")
	s, err := r.loadExplained(run, id)
	if err != nil {
		return nil, err
	}
	status := r.statusExplained(run, s)
	if status == specs.StateStopped {
		return nil, errors.New("container is not running: its process is gone")
	}
	a := &Anatomy{ID: id, Status: string(status)}
	readProcess := func(pid int, mounts bool, who string) (p *anatomy.Process, err error) {
		files := "ns/*, cgroup, status, uid_map, gid_map, limits"
		if mounts {
			files += ", mountinfo"
		}
		err = runRead(run, step.Step{Op: "read", Args: "/proc/" + strconv.Itoa(pid) + "/{" + files + "}",
			Why: who + " as the kernel shows it: namespaces, cgroups, capabilities, seccomp, ID maps, rlimits; its hostname by setns(2) into its UTS namespace and uname(2)",
			Do:  func() (err error) { p, err = anatomy.Read(pid, mounts); return err }})
		return p, err
	}
	if a.Container, err = readProcess(s.Pid, true, "the container's init"); err != nil {
		return nil, err
	}
	// The host is PID 1, or this process (in the host's namespaces)
	// where PID 1's files may not be read: proc(5)'s ptrace access
	// check fails when PID 1 holds a capability we lack.
	if a.Host, err = readProcess(1, false, "the host's init"); errors.Is(err, fs.ErrPermission) {
		a.Host, err = readProcess(os.Getpid(), false, "this process, in the host's namespaces")
	}
	if err != nil {
		return nil, err
	}
	m, err := s.cgroup()
	if err != nil {
		return nil, err
	}
	var limits []cgroups.FileValue
	err = runRead(run, step.Step{Op: "read", Args: "the limit files and " + strings.Join(useFiles, ", ") + " in " + m.DirList(),
		Why: "the cgroup's limits and what the container uses of them",
		Do:  func() (err error) { limits, err = m.Show(); return err }})
	if err != nil {
		return nil, err
	}
	for _, f := range limits {
		a.CgroupFiles = append(a.CgroupFiles, CgroupFile{Path: f.Path, Value: f.Value})
	}
	seen := map[string]bool{}
	for _, f := range limits {
		seen[f.Path] = true
	}
	for _, dir := range m.Dirs() {
		for _, name := range useFiles {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || seen[filepath.Join(dir, name)] {
				continue // not this hierarchy's, or not this kernel's
			}
			v := strings.TrimSuffix(strings.Join(strings.Fields(strings.ReplaceAll(string(data), "\n", "; ")), " "), ";")
			a.CgroupFiles = append(a.CgroupFiles, CgroupFile{Path: filepath.Join(dir, name), Value: v})
		}
	}
	var pids []int
	err = runRead(run, step.Step{Op: "read", Args: "cgroup.procs in " + m.DirList() + ", then /proc/PID/{status,cmdline} of each",
		Why: "the container's processes: host and container pid (NSpid), command line",
		Do:  func() (err error) { pids, err = m.Pids(); return err }})
	if err != nil {
		return nil, err
	}
	for _, pid := range pids {
		p, ok := readProc(pid)
		if ok {
			a.Processes = append(a.Processes, p)
		}
	}
	return a, nil
}

// readProc reads a process's NSpid and command line; false if it exited.
func readProc(pid int) (Proc, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	p := Proc{Pid: pid, NSPid: pid}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return p, false
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				if n, err := strconv.Atoi(f[len(f)-1]); err == nil {
					p.NSPid = n
				}
			}
		}
	}
	cmd, err := os.ReadFile(dir + "/cmdline")
	if err != nil {
		return p, false
	}
	p.Command = strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
	return p, true
}
