package container

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ctr-lite/ctr-lite/anatomy"
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
func (r Root) Inspect(id string) (*Anatomy, error) {
	s, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	status := s.Status(r.dir(id), r.frozenFunc(s))
	if status == specs.StateStopped {
		return nil, errors.New("container is not running: its process is gone")
	}
	a := &Anatomy{ID: id, Status: string(status)}
	if a.Container, err = anatomy.Read(s.Pid, true); err != nil {
		return nil, err
	}
	// The host is PID 1, or this process (in the host's namespaces)
	// where PID 1's files may not be read: proc(5)'s ptrace access
	// check fails when PID 1 holds a capability we lack.
	if a.Host, err = anatomy.Read(1, false); errors.Is(err, fs.ErrPermission) {
		a.Host, err = anatomy.Read(os.Getpid(), false)
	}
	if err != nil {
		return nil, err
	}
	m, err := s.cgroup()
	if err != nil {
		return nil, err
	}
	limits, err := m.Show()
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
	pids, err := m.Pids()
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
