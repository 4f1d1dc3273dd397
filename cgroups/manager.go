package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// Manager is one cgroup, named by a path as runc's cgroupfs driver takes
// it (the spec's linux.cgroupsPath): "/a/b" is relative to the root of
// each hierarchy, "a/b" to the calling process's own cgroup in each
// hierarchy (on v2: to its parent, as runc does). ".." cannot climb out
// of either ("../a" is "a"), and a colon is an ordinary character: the
// "slice:prefix:name" that containerd's CRI hands a runtime for a
// "*.slice" pod parent is one directory of that name, as under runc
// without --systemd-cgroup. Creating it makes one directory per v1
// hierarchy (plus the cgroup2 one on a hybrid host), or one on v2.
type Manager struct {
	path    string
	mode    Mode
	res     *Resources
	dirs    map[string]string // hierarchy ("memory", "name=systemd"; "" for cgroup2) -> directory
	created []string          // topmost directories Create made, for Cleanup

	// rootless: runc 1.1's rootless cgroup manager (Rootless: true),
	// for a runtime that is not root; explicit: the path was the
	// spec's linux.cgroupsPath, not the default.
	rootless, explicit bool
	skipped            []string // hierarchies CreateStep could not make (rootless)
}

// SetRootless makes the Manager behave as runc 1.1's does for a runtime
// that is not root (RootlessCgroups): a hierarchy where mkdir(2) is
// refused (EACCES, EPERM, EROFS) is left out, unless the path was given
// (explicit) or limits for that controller were; device rules that cannot
// be written are ignored. Call before CreateStep.
func (m *Manager) SetRootless(explicit bool) {
	m.rootless, m.explicit = true, explicit
}

// Skipped lists the hierarchies CreateStep left out (rootless, no
// permission), sorted; empty when the group was made everywhere.
func (m *Manager) Skipped() []string { return slices.Sorted(slices.Values(m.skipped)) }

// ignorable is runc's isIgnorableError for a rootless runtime.
func ignorable(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EROFS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// createRootless makes each hierarchy's directory on its own and drops
// those it may not make (see SetRootless).
func (m *Manager) createRootless() error {
	m.created, m.skipped = nil, nil
	for _, ctrl := range slices.Sorted(maps.Keys(m.dirs)) {
		d := m.dirs[ctrl]
		top := ""
		for p := d; !exists(p); p = filepath.Dir(p) {
			top = p
		}
		err := os.MkdirAll(d, 0o755)
		if err == nil {
			if top != "" {
				m.created = append(m.created, top)
			}
			continue
		}
		if !ignorable(err) || m.explicit {
			return err
		}
		name := ctrl
		if name == "" {
			name = "cgroup2"
		}
		if describe(only(ctrl, m.res)) != "" && ctrl != "devices" {
			// runc's words, then the one directory and why: "...: mkdir
			// /sys/fs/cgroup/memory/x: permission denied".
			return errorf("cannot set %s limit: container could not join or create cgroup: %w", specName()[ctrl], err)
		}
		m.skipped = append(m.skipped, name)
		delete(m.dirs, ctrl)
	}
	return nil
}

// New validates path and r and prepares a Manager; it changes nothing in
// the kernel. r may be nil (no limits).
func New(path string, r *specs.LinuxResources) (*Manager, error) {
	if path == "" || filepath.Clean("/"+path) == "/" {
		// runc would use the hierarchy's root (or the caller's own
		// group) itself, and delete would then try to remove it.
		return nil, errorf("cgroup path %q: names no group of its own; want a path like /ctr-lite/NAME or NAME", path)
	}
	mode := HostMode()
	res, err := ToResources(r, mode)
	if err != nil {
		return nil, err
	}
	m := &Manager{path: path, mode: mode, res: res}
	if mode == Unified {
		d, err := v2Dir(path)
		if err != nil {
			return nil, errorf("cgroup %s: %w", path, err)
		}
		m.dirs = map[string]string{"": d}
		return m, nil
	}
	// Hybrid: the group is also made in the cgroup2 hierarchy at
	// /sys/fs/cgroup/unified (the "" entry), like runc 1.1.
	if m.dirs, err = v1Dirs(path, !res.SkipDevices, mode == Hybrid); err != nil {
		return nil, errorf("cgroup %s: %w", path, err)
	}
	if err := m.checkHierarchies(res); err != nil {
		return nil, err
	}
	return m, nil
}

// Mode is the host's cgroup mode the Manager works in.
func (m *Manager) Mode() Mode { return m.mode }

// Path is the cgroup path as given.
func (m *Manager) Path() string { return m.path }

// Dirs lists the cgroup's directories, one per hierarchy, sorted.
func (m *Manager) Dirs() []string {
	var d []string
	for _, p := range m.dirs {
		d = append(d, p)
	}
	sort.Strings(d)
	return d
}

// DirList names the cgroup's directories in one short string, as
// --explain shows them ("/sys/fs/cgroup/{cpu,memory}/x").
func (m *Manager) DirList() string { return m.dirList() }

// dirList is Dirs in short form for messages:
// "/sys/fs/cgroup/{cpu,memory,...}/a/b" when they differ only in the
// hierarchy.
func (m *Manager) dirList() string {
	d := m.Dirs()
	if len(d) < 2 {
		return strings.Join(d, " ")
	}
	// Split each into prefix/hierarchy/suffix with the same prefix and
	// suffix (segments) for all.
	segs := make([][]string, len(d))
	for i, p := range d {
		segs[i] = strings.Split(p, "/")
	}
	n := len(segs[0])
	for _, s := range segs {
		if len(s) != n {
			return strings.Join(d, " ")
		}
	}
	hi := -1 // the one segment where they differ
	for j := 0; j < n; j++ {
		for _, s := range segs[1:] {
			if s[j] != segs[0][j] {
				if hi >= 0 && hi != j {
					return strings.Join(d, " ")
				}
				hi = j
			}
		}
	}
	if hi < 0 {
		return d[0]
	}
	var hs []string
	for _, s := range segs {
		hs = append(hs, s[hi])
	}
	return strings.Join(segs[0][:hi], "/") + "/{" + strings.Join(hs, ",") + "}/" + strings.Join(segs[0][hi+1:], "/")
}

// dir is where controller's files are.
func (m *Manager) dir(ctrl string) string {
	if m.mode == Unified {
		return m.dirs[""]
	}
	return m.dirs[ctrl]
}

// Exists tells whether any of the cgroup's directories exists.
func (m *Manager) Exists() bool {
	for _, d := range m.dirs {
		if _, err := os.Stat(d); err == nil {
			return true
		}
	}
	return false
}

// CreateStep makes the directories (mkdir(2) in each hierarchy; the
// kernel fills each with its controller's files). It fails if the cgroup
// exists already, so that Cleanup only ever removes what it made.
func (m *Manager) CreateStep() step.Step {
	return step.Step{
		Op:   "mkdir",
		Args: m.dirList(),
		Why:  "a cgroup is a directory in each hierarchy; the kernel adds the controllers' files",
		Do: func() error {
			if m.Exists() {
				return errorf("cgroup %s already exists", m.path)
			}
			if m.rootless {
				if err := m.createRootless(); err != nil {
					m.Cleanup()
					return err
				}
				if len(m.dirs) == 0 {
					return nil
				}
			}
			if !m.rootless {
				m.created = nil
				for _, d := range m.dirs {
					top := ""
					for p := d; !exists(p); p = filepath.Dir(p) {
						top = p
					}
					if top != "" {
						m.created = append(m.created, top)
					}
				}
			}
			err := m.mkdirs()
			if err != nil {
				m.Cleanup()
			}
			return err
		},
		ReadBack: func() (string, error) {
			var s []string
			for _, d := range m.Dirs() {
				procs, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
				if err != nil {
					return "", err
				}
				s = append(s, fmt.Sprintf("%s (%d processes)", d, len(strings.Fields(string(procs)))))
			}
			return strings.Join(s, ", "), nil
		},
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Made tells whether CreateStep made any directory of the cgroup (and
// Cleanup has not removed them yet): only then is the group ours to
// kill and remove when create fails.
func (m *Manager) Made() bool { return len(m.created) > 0 }

// Cleanup removes the directories CreateStep made (rmdir(2), deepest
// first), for when a later step failed. Errors are joined.
func (m *Manager) Cleanup() error {
	var errs []error
	for _, top := range m.created {
		if err := removeDir(top); err != nil {
			errs = append(errs, err)
		}
	}
	m.created = nil
	return errors.Join(errs...)
}

var why = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"cpuset":   "pin the group to these CPUs and memory nodes",
		"memory":   "cap the group's memory; the kernel reclaims, then OOM-kills, above it",
		"cpu":      "share CPU by weight and cap it to quota per period",
		"pids":     "fork/clone fails with EAGAIN once the group has this many tasks",
		"blkio":    "share block I/O by weight and cap it per device (bytes or I/Os per second)",
		"hugetlb":  "cap huge page use",
		"devices":  "which device nodes the group may open or mknod (v1: lists; v2: an eBPF program on the cgroup)",
		"net_cls":  "tag the group's packets with a class id (tc, iptables)",
		"net_prio": "set the priority of the group's packets per interface",
		"rdma":     "cap RDMA handles and objects per device",
		"unified":  "write cgroup v2 files as given",
	}
})

// SetSteps write the Manager's limits, one step per controller that has
// any (the read-back shows the kernel's files afterwards).
func (m *Manager) SetSteps() []step.Step {
	return m.setSteps(m.res)
}

// setSteps makes one step per controller whose part of r (only) sets
// anything; the step hands that part to the controller's writer (v1.go,
// v2.go) and describes it by the same values.
func (m *Manager) setSteps(r *Resources) []step.Step {
	var steps []step.Step
	for _, ctrl := range append(controllerOrder, "unified") {
		part := only(ctrl, r)
		args := describe(part)
		if args == "" {
			continue
		}
		dir := m.dir(ctrl)
		steps = append(steps, step.Step{
			Op:   "write",
			Args: dir + ": " + args,
			Why:  why()[ctrl],
			Do: func() error {
				if m.rootless && ctrl == "devices" {
					// runc: a rootless runtime's device rules are
					// "really not expected to work"; errors ignored.
					if m.dir(ctrl) != "" {
						_ = m.setDevices(part)
					}
					return nil
				}
				if len(m.dirs) == 0 {
					// Rootless, with the cgroup made nowhere (runc's words).
					return errorf("cannot set %s limit: container could not join or create cgroup", specName()[ctrl])
				}
				if err := m.checkWritable(ctrl, part); err != nil {
					return err
				}
				if err := m.set(ctrl, part); err != nil {
					return errorf("%s: %w", specName()[ctrl], err)
				}
				return nil
			},
			ReadBack: func() (string, error) {
				if ctrl == "unified" {
					// The files are the ones the config names.
					fv, err := readNamed(dir, slices.Sorted(maps.Keys(part.Unified)))
					return joinValues(fv), err
				}
				fv, err := readFiles(dir, ctrl, m.mode)
				return joinValues(fv), err
			},
		})
	}
	return steps
}

// set writes controller ctrl's part of the limits.
func (m *Manager) set(ctrl string, part *Resources) error {
	switch {
	case ctrl == "devices":
		return m.setDevices(part)
	case m.mode == Unified:
		return setV2(ctrl, m.dir(ctrl), part)
	}
	return setV1(ctrl, m.dir(ctrl), part)
}

// mkdirs makes the group's directories, as runc's Apply does: v2 the
// directory with the controllers enabled on the way down (mkdirV2); v1
// one per hierarchy, the cpuset one with its parent's CPUs and nodes
// and, as the library does at creation, the limits' cpuset lists and
// real-time budget written before any process can join.
func (m *Manager) mkdirs() error {
	if m.mode == Unified {
		return mkdirV2(m.dirs[""], m.res)
	}
	for _, h := range append(slices.Clip(v1Hierarchies), "") {
		d, ok := m.dirs[h]
		if !ok {
			continue
		}
		var err error
		switch h {
		case "cpuset":
			err = mkdirCpusetV1(d, m.res)
		case "cpu":
			if err = os.MkdirAll(d, 0o755); err == nil {
				err = setRtV1(d, m.res)
			}
		case "name=systemd", "misc", "":
			_ = os.MkdirAll(d, 0o755) // joined if possible, not needed
		default:
			err = os.MkdirAll(d, 0o755)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkHierarchies refuses limits for a controller this host has no
// hierarchy for (v1 and hybrid: the library would skip them; runc 1.1
// silently does).
func (m *Manager) checkHierarchies(r *Resources) error {
	if m.mode == Unified {
		return nil
	}
	for _, ctrl := range controllerOrder {
		if m.dirs[ctrl] == "" && describe(only(ctrl, r)) != "" {
			return errorf("%s: no %s hierarchy in cgroup v1 on this %s host", specName()[ctrl], ctrl, m.mode)
		}
	}
	return nil
}

// specName is the linux.resources member that fills each controller.
var specName = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"cpuset": "cpu.cpus/cpu.mems", "memory": "memory", "cpu": "cpu", "pids": "pids", "blkio": "blockIO",
		"hugetlb": "hugepageLimits", "devices": "devices", "net_cls": "network.classID",
		"net_prio": "network.priorities", "rdma": "rdma", "unified": "unified",
	}
})

// checkWritable refuses, before any write, a part runc's writers would
// drop on this kernel without an error: on v2 a per-device weight is written
// only to io.bfq.weight (the BFQ scheduler's file; there is no
// io.weight_device to fall back to), and on v1 a burst is skipped when
// cpu.cfs_burst_us is missing (before Linux 5.14).
func (m *Manager) checkWritable(ctrl string, part *Resources) error {
	dir := m.dir(ctrl)
	switch {
	case m.mode == Unified && ctrl == "blkio" && len(part.BlkioWeightDevice) > 0 && !exists(filepath.Join(dir, "io.bfq.weight")):
		return errorf("blockIO.weightDevice: cgroup v2 sets per-device weights only in io.bfq.weight, and %s has none (no BFQ I/O scheduler)", dir)
	case m.mode != Unified && ctrl == "cpu" && part.CpuBurst != nil && !exists(filepath.Join(dir, "cpu.cfs_burst_us")):
		return errorf("cpu.burst: %s has no cpu.cfs_burst_us (Linux 5.14 or later)", dir)
	}
	return nil
}

// ErrNoLimits is UpdateSteps' error for resources that set nothing.
var ErrNoLimits = errors.New("no limits given")

// UpdateSteps are SetSteps for new limits on an existing cgroup (what
// `runc update --resources` does). A memory limit below the current
// usage is refused on v2 too (where the kernel would OOM-kill to meet
// it instead of refusing with EBUSY as v1 does).
func (m *Manager) UpdateSteps(r *specs.LinuxResources) ([]step.Step, error) {
	res, err := ToResources(r, m.mode)
	if err != nil {
		return nil, err
	}
	res.MemoryCheckBeforeUpdate = true
	if m.rootless && len(m.dirs) == 0 {
		for _, ctrl := range append(controllerOrder, "unified") {
			if describe(only(ctrl, res)) != "" {
				// runc's words for a rootless container without a cgroup.
				return nil, errorf("cannot set %s limit: container could not join or create cgroup", specName()[ctrl])
			}
		}
	}
	if err := m.checkHierarchies(res); err != nil {
		return nil, err
	}
	steps := m.setSteps(res)
	if len(steps) == 0 {
		return nil, ErrNoLimits
	}
	return append([]step.Step{m.existsStep()}, steps...), nil
}

// existsStep fails when the cgroup does not exist (before writing
// into it would create files in a missing directory's place).
func (m *Manager) existsStep() step.Step {
	return step.Step{
		Op:   "stat",
		Args: m.dirList(),
		Why:  "the cgroup must exist",
		Do: func() error {
			if !m.Exists() {
				return errorf("cgroup %s does not exist", m.path)
			}
			return nil
		},
	}
}

// AddStep moves process pid (all its threads) into the cgroup: a write
// of the pid to cgroup.procs in every hierarchy.
func (m *Manager) AddStep(pid int) step.Step {
	return step.Step{
		Op:   "write",
		Args: fmt.Sprintf("cgroup.procs=%d in %s", pid, m.dirList()),
		Why:  "move the process (all its threads); its children are born here",
		Do: func() error {
			if pid <= 0 {
				return errorf("pid %d: not a process id", pid)
			}
			if m.rootless && len(m.dirs) == 0 {
				return nil // no hierarchy it may make: no group to join
			}
			if !m.Exists() {
				return errorf("cgroup %s does not exist", m.path)
			}
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				return errorf("pid %d: %w", pid, err)
			}
			for _, d := range m.Dirs() {
				if err := joinGroup(d, pid); err != nil {
					return err
				}
			}
			return nil
		},
		ReadBack: func() (string, error) {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
			return "/proc/" + strconv.Itoa(pid) + "/cgroup: " + strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", " "), err
		},
	}
}

// ApplySteps are what a runtime does for a container: create, set the
// limits, add pid (if pid > 0). Run them with Apply to clean up on
// failure.
func (m *Manager) ApplySteps(pid int) []step.Step {
	steps := append([]step.Step{m.CreateStep()}, m.SetSteps()...)
	if pid > 0 {
		steps = append(steps, m.AddStep(pid))
	}
	return steps
}

// Apply runs ApplySteps and, if one fails, removes what was created:
// nothing is left behind.
func (m *Manager) Apply(r *step.Runner, pid int) error {
	if err := r.Run(m.ApplySteps(pid)...); err != nil {
		if cerr := m.Cleanup(); cerr != nil {
			return errorf("%w (cleanup: %v)", err, cerr)
		}
		return err
	}
	return nil
}

// FreezeStep freezes (or thaws) every process in the cgroup: v1 writes
// freezer.state FROZEN/THAWED, v2 cgroup.freeze 1/0; both wait until the
// kernel reports the new state.
func (m *Manager) FreezeStep(freeze bool) step.Step {
	file, val, why := "freezer.state", "FROZEN", "stop every task in the group (they can't see it: no signal)"
	if !freeze {
		val, why = "THAWED", "let the group's tasks run again"
	}
	dir := m.dir("freezer")
	if m.mode == Unified {
		file, val = "cgroup.freeze", map[bool]string{true: "1", false: "0"}[freeze]
	}
	return step.Step{
		Op:   "write",
		Args: filepath.Join(dir, file) + "=" + val,
		Why:  why,
		Do: func() error {
			if m.rootless && len(m.dirs) == 0 {
				// runc's words for a rootless container without a cgroup.
				return errors.New("cannot toggle freezer: cgroups not configured for container")
			}
			if !m.Exists() {
				return errorf("cgroup %s does not exist", m.path)
			}
			return m.freeze(freeze)
		},
		ReadBack: func() (string, error) {
			fv, err := readFiles(dir, "freezer", m.mode)
			return joinValues(fv), err
		},
	}
}

// Show reads the limit files of every controller, as the kernel holds
// them now.
func (m *Manager) Show() ([]FileValue, error) {
	if !m.Exists() {
		return nil, errorf("cgroup %s does not exist", m.path)
	}
	var all []FileValue
	for _, ctrl := range controllerOrder {
		dir := m.dir(ctrl)
		if dir == "" {
			continue
		}
		fv, err := readFiles(dir, ctrl, m.mode)
		if err != nil {
			return nil, err
		}
		all = append(all, fv...)
	}
	return all, nil
}

// Pids lists the processes in the cgroup and its descendants.
func (m *Manager) Pids() ([]int, error) {
	if !m.Exists() {
		return nil, errorf("cgroup %s does not exist", m.path)
	}
	return m.allPids()
}

// allPids lists the processes in the group and below: v1 from the
// devices hierarchy as runc does (any other when it has none).
func (m *Manager) allPids() ([]int, error) {
	d := m.dir("devices")
	if d == "" {
		d = m.dirs[""]
		if ds := m.Dirs(); d == "" && len(ds) > 0 {
			d = ds[0]
		}
	}
	return allPids(d)
}

// freeze freezes or thaws the group (v1 freezer.state, v2
// cgroup.freeze) and waits for the kernel to have done it.
func (m *Manager) freeze(freeze bool) error {
	if m.mode == Unified {
		return freezeV2(m.dirs[""], freeze)
	}
	d := m.dirs["freezer"]
	if d == "" {
		return errors.New("cannot toggle freezer: cgroups not configured for container")
	}
	return freezeV1(d, freeze)
}

// destroy removes the group's directories (and any group below them).
func (m *Manager) destroy() error {
	var errs []error
	for _, d := range m.Dirs() {
		if err := removeDir(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteSteps remove the cgroup from every hierarchy (rmdir(2), which
// the kernel refuses with EBUSY while processes are in it). With kill,
// the processes are killed first (v2: cgroup.kill; v1: SIGKILL to each,
// with the group frozen so none can fork meanwhile).
func (m *Manager) DeleteSteps(kill bool) []step.Step {
	steps := []step.Step{m.existsStep()}
	if kill {
		steps = append(steps, m.killStep())
	} else {
		steps = append(steps, step.Step{
			Op:   "read",
			Args: "cgroup.procs",
			Why:  "rmdir fails while processes are in the group",
			Do: func() error {
				pids, err := m.allPids()
				if err != nil {
					return err
				}
				if len(pids) > 0 {
					return errorf("cgroup %s still has processes %v (kill them first)", m.path, pids)
				}
				return nil
			},
		})
	}
	return append(steps, step.Step{
		Op:   "rmdir",
		Args: m.dirList(),
		Why:  "an empty cgroup is removed like a directory",
		Do:   m.destroy,
		ReadBack: func() (string, error) {
			var left []string
			for _, d := range m.Dirs() {
				if exists(d) {
					left = append(left, d)
				}
			}
			if len(left) == 0 {
				return "no directory left", nil
			}
			return "left: " + strings.Join(left, " "), nil
		},
	})
}

func (m *Manager) killStep() step.Step {
	kill := filepath.Join(m.dir(""), "cgroup.kill")
	if m.mode != Unified || !exists(kill) {
		kill = ""
	}
	args := "SIGKILL to each process in cgroup.procs"
	if kill != "" {
		args = kill + "=1"
	}
	return step.Step{
		Op:   "kill",
		Args: args,
		Why:  "rmdir needs an empty group",
		Do: func() error {
			if partial := m.partial(); partial != nil {
				return removeCgroupDirs(partial)
			}
			// The usual case: the container's processes are gone, and
			// freezing an empty v1 group only costs time.
			if pids, err := m.allPids(); err == nil && len(pids) == 0 {
				return nil
			}
			if kill != "" {
				if err := os.WriteFile(kill, []byte("1"), 0); err != nil {
					return err
				}
			} else {
				if m.dir("freezer") != "" {
					_ = m.freeze(true) // best effort: no fork races
				}
				pids, err := m.allPids()
				if err != nil {
					return err
				}
				for _, p := range pids {
					if err := syscall.Kill(p, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
						return errorf("kill %d: %w", p, err)
					}
				}
				if m.dir("freezer") != "" {
					_ = m.freeze(false) // killed tasks die when thawed
				}
			}
			return m.waitEmpty()
		},
	}
}

// waitEmpty waits for killed processes to leave the group (they do in
// exit(2), before their parent reaps them).
func (m *Manager) waitEmpty() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := m.allPids()
		if err != nil || len(pids) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return errorf("cgroup %s: processes %v still there after SIGKILL", m.path, pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Frozen reports whether the group is frozen (v1 freezer.state FROZEN,
// v2 cgroup.freeze 1): a paused container.
func (m *Manager) Frozen() (bool, error) {
	var frozen bool
	var err error
	switch {
	case len(m.dirs) == 0:
		return false, nil // no group (None): nothing can freeze it
	case m.mode == Unified:
		frozen, err = frozenV2(m.dirs[""])
	case m.dirs["freezer"] == "":
		return false, nil
	default:
		frozen, err = frozenV1(m.dirs["freezer"])
	}
	if err != nil {
		return false, errorf("cgroup %s: freezer state: %w", m.path, err)
	}
	return frozen, nil
}

// FreezerFile is the file Frozen reads: cgroup v2's cgroup.freeze, or
// v1's freezer.state (then freezer.self_freezing when FROZEN); "" when
// the group has no freezer (Frozen is then false).
func (m *Manager) FreezerFile() string {
	switch {
	case len(m.dirs) == 0:
		return ""
	case m.mode == Unified:
		return filepath.Join(m.dirs[""], "cgroup.freeze")
	case m.dirs["freezer"] == "":
		return ""
	}
	return filepath.Join(m.dirs["freezer"], "freezer.state")
}

// OOMFile is the file OOMKills reads: v1 memory.oom_control or v2
// memory.events; "" without a memory controller.
func (m *Manager) OOMFile() string {
	dir := m.dir("memory")
	switch {
	case dir == "":
		return ""
	case m.mode == Unified:
		return filepath.Join(dir, "memory.events")
	}
	return filepath.Join(dir, "memory.oom_control")
}

// OOMKills is how many processes the kernel's OOM killer killed in the
// group: the oom_kill counter of v1 memory.oom_control or v2
// memory.events.
func (m *Manager) OOMKills() (uint64, error) {
	file := "memory.oom_control"
	if m.mode == Unified {
		file = "memory.events"
	}
	dir := m.dir("memory")
	if dir == "" {
		return 0, errorf("cgroup %s: no memory controller", m.path)
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return 0, errorf("cgroup %s: %w", m.path, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, nil
}

// OpenStep opens the cgroup v2 directory with O_PATH|O_DIRECTORY into
// *f: the descriptor clone3(2) CLONE_INTO_CGROUP takes to start a child
// in the group (no cgroup.procs write). Only a unified (v2) host has one
// directory for every controller; elsewhere it fails.
func (m *Manager) OpenStep(f **os.File) step.Step {
	d := m.dirs[""]
	return step.Step{
		Op:   "open",
		Args: fmt.Sprintf("%q, O_PATH|O_DIRECTORY", d),
		Why:  "a handle on the cgroup for clone3(CLONE_INTO_CGROUP): the process is born in it",
		Do: func() error {
			if m.mode != Unified {
				return errorf("cgroup %s: not a cgroup v2 (unified) host", m.path)
			}
			fd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			*f = os.NewFile(uintptr(fd), d)
			return nil
		},
	}
}
