package integration

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// cgroupPathCase is one linux.cgroupsPath form an orchestrator hands the
// runtime, and where runc 1.1's cgroupfs driver puts the container.
type cgroupPathCase struct {
	name    string
	path    string // linux.cgroupsPath
	systemd bool   // --systemd-cgroup
	// want is the container's cgroup in a hierarchy whose line in our
	// own /proc/self/cgroup is own.
	want func(own string) string
	// parents are made by the runtime above the container's group and
	// removed by the test (kubelet makes and removes them in real life).
	parents []string
}

// relativeTo is runc's placement of a relative path: under the caller's
// own group in each v1 hierarchy, under its parent on v2 (fs2's
// defaultDirPath: the caller's own group has processes in it).
func relativeTo(rel string) func(own string) string {
	return func(own string) string {
		if cgroupV2() {
			own = filepath.Dir(own)
		}
		return filepath.Join(own, rel)
	}
}

func absolute(p string) func(string) string { return func(string) string { return p } }

// TestOrchestratorCreatesPodWithSliceCgroupParent runs a container with
// each linux.cgroupsPath form containerd 1.6's CRI and other
// orchestrators produce, checks where its processes are in every
// hierarchy, drives every command that finds the container by its cgroup
// (exec, ps, pause, resume, update, events, kill --all), and checks delete
// removes the group from every hierarchy.
func TestOrchestratorCreatesPodWithSliceCgroupParent(t *testing.T) {
	pid := os.Getpid()
	id := fmt.Sprintf("cgp%d", pid)
	slice := fmt.Sprintf("ctrlite%d.slice", pid)
	cases := []cgroupPathCase{
		// containerd's CRI with SystemdCgroup = false and a "*.slice"
		// pod parent: one directory named with colons.
		{name: "slice-form-cgroupfs", path: slice + ":cri-containerd:" + id,
			want: relativeTo(slice + ":cri-containerd:" + id)},
		// kubelet's cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>.
		{name: "kubepods", path: fmt.Sprintf("/kubepods-%d/besteffort/pod%d/%s", pid, pid, id),
			want:    absolute(fmt.Sprintf("/kubepods-%d/besteffort/pod%d/%s", pid, pid, id)),
			parents: []string{fmt.Sprintf("/kubepods-%d/besteffort/pod%d", pid, pid), fmt.Sprintf("/kubepods-%d/besteffort", pid), fmt.Sprintf("/kubepods-%d", pid)}},
		// A relative path; ".." cannot climb out of the caller's group.
		{name: "relative-dotdot", path: "../../ctrlite-rel-" + strconv.Itoa(pid) + "/" + id,
			want:    relativeTo("ctrlite-rel-" + strconv.Itoa(pid) + "/" + id),
			parents: []string{"ctrlite-rel-" + strconv.Itoa(pid)}},
		// No path: the ID under the caller's own group.
		{name: "empty", path: "", want: relativeTo(id)},
		// The same slice string with --systemd-cgroup: systemd's layout.
		{name: "slice-form-systemd", path: slice + ":cri-containerd:" + id, systemd: true,
			want:    absolute("/" + slice + "/cri-containerd-" + id + ".scope"),
			parents: []string{"/" + slice}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { orchestratorRunsInCgroupPath(t, id, tc) })
	}
}

func orchestratorRunsInCgroupPath(t *testing.T, id string, tc cgroupPathCase) {
	b := newBundle(t, "cgpath", "sleep", "1000")
	b.id = b.track(id)
	b.spec.Linux.CgroupsPath = tc.path
	b.write()
	own := cgroupLines(t, "self")
	t.Cleanup(func() {
		// After the bundle's own cleanup (Cleanup runs last-in first):
		// the parents the runtime made, deepest first, in every
		// hierarchy.
		for _, p := range tc.parents {
			for h, o := range own {
				os.Remove(hierDir(h, relOrAbs(o, p)))
			}
		}
	})
	global := []string{}
	if tc.systemd {
		global = append(global, "--systemd-cgroup")
	}
	b.mustDetached(append(global, "run", "-d", "--bundle", b.dir, id)...)
	st := b.state(id)
	inits := cgroupLines(t, strconv.Itoa(st.Pid))
	var dirs []string
	for h, o := range own {
		want := tc.want(o)
		if got := inits[h]; got != want {
			t.Errorf("init's cgroup in %q is %q, want %q", h, got, want)
		}
		d := hierDir(h, want)
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Errorf("no cgroup directory %s: %v", d, err)
		}
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)

	// Every command that finds the container's group.
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	b.mustDetached(append(global, "exec", "-d", "--pid-file", pidFile, id, "sleep", "1000")...)
	execPid := strings.TrimSpace(readTrim(t, pidFile))
	b.pids = append(b.pids, atoi(t, execPid))
	if got, want := cgroupLines(t, execPid), inits; !maps.Equal(got, want) {
		t.Errorf("exec'd process's cgroups %v, want the init's %v", got, want)
	}
	if r := b.must(append(global, "ps", id)...); !strings.Contains(r.stdout, strconv.Itoa(st.Pid)) {
		t.Errorf("ps lacks the init %d:\n%s", st.Pid, r.stdout)
	}
	b.must(append(global, "pause", id)...)
	if s := b.state(id); s.Status != "paused" {
		t.Errorf("after pause: %s", s.Status)
	}
	b.must(append(global, "resume", id)...)
	b.must(append(global, "update", "--pids-limit", "77", id)...)
	pidsMax := hierDir("0:", tc.want(own["0:"])) + "/pids.max"
	if !cgroupV2() {
		pidsMax = filepath.Join(dirFor(t, dirs, "pids"), "pids.max")
	}
	if got := readTrim(t, pidsMax); got != "77" {
		t.Errorf("%s = %q after update --pids-limit 77", pidsMax, got)
	}
	if r := b.must(append(global, "events", "--stats", id)...); !strings.Contains(r.stdout, `"pids":{"current":2,"limit":77}`) {
		t.Errorf("events --stats does not read the group (init + exec, limit 77):\n%s", r.stdout)
	}
	b.must(append(global, "kill", "--all", id, "KILL")...)
	b.waitStatus(id, "stopped")
	b.must(append(global, "delete", id)...)
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("delete left cgroup %s", d)
		}
	}
}

// relOrAbs places p like runc: absolute as is, relative under own
// (its parent on v2).
func relOrAbs(own, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return relativeTo(p)(own)
}

// hierDir is the directory of cgroup p in hierarchy h ("4:memory",
// "9:name=systemd", "0:" for cgroup2), found by mount point under
// /sys/fs/cgroup.
func hierDir(h, p string) string {
	_, ctrls, _ := strings.Cut(h, ":")
	switch {
	case ctrls == "" && cgroupV2():
		return filepath.Join("/sys/fs/cgroup", p)
	case ctrls == "":
		return filepath.Join("/sys/fs/cgroup/unified", p)
	}
	ctrls = strings.TrimPrefix(ctrls, "name=")
	return filepath.Join("/sys/fs/cgroup", ctrls, p)
}

// dirFor picks the directory of the hierarchy named ctrl from dirs.
func dirFor(t *testing.T, dirs []string, ctrl string) string {
	t.Helper()
	for _, d := range dirs {
		if strings.HasPrefix(d, "/sys/fs/cgroup/"+ctrl+"/") {
			return d
		}
	}
	t.Fatalf("no %s hierarchy among %v", ctrl, dirs)
	return ""
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
