package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// procEntry is one process as /proc shows it.
type procEntry struct {
	pid, ppid int
	exe       string // readlink /proc/PID/exe ("" for a kernel thread or a race)
	cmdline   string
}

func procTable() []procEntry {
	ents, _ := os.ReadDir("/proc")
	var ps []procEntry
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		exe, _ := os.Readlink("/proc/" + e.Name() + "/exe")
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		ps = append(ps, procEntry{pid: pid, ppid: ppid, exe: exe, cmdline: strings.ReplaceAll(string(cmd), "\x00", " ")})
	}
	return ps
}

// cgroupProcs is the union of cgroup.procs in each of the group's directories.
func cgroupProcs(t *testing.T, dirs []string) []int {
	t.Helper()
	var pids []int
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Fields(string(data)) {
			if p, err := strconv.Atoi(l); err == nil && !slices.Contains(pids, p) {
				pids = append(pids, p)
			}
		}
	}
	slices.Sort(pids)
	return pids
}

// An orchestrator that creates a container keeps nothing of ctr-lite in
// memory but the container's own process, as with runc (no monitor, no
// shim of ours): once `create` returns, the container's cgroup holds only
// the init (ctr-lite's init, or the raw init's sealed trampoline, blocked
// on the exec FIFO), which has no
// children and whose parent is not ctr-lite; no other process runs the
// binary (the file, or the sealed overlay or memfd copy the init is
// executed from). After `start` the init has become the program and no
// process runs ctr-lite at all.
func TestOrchestratorCreateLeavesOnlyTheContainersProcess(t *testing.T) {
	b := newBundle(t, "resident", "sleep", "1000")
	// A copy with a name of its own: the sealed overlay shows the
	// binary's base name as /proc/PID/exe ("/NAME"), so ours are told
	// from other runs of ctr-lite on the machine.
	name := "ctr-lite-resident-" + strconv.Itoa(os.Getpid())
	bin := filepath.Join(t.TempDir(), name)
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	ours := func(p procEntry) bool {
		return p.exe == bin || strings.TrimSuffix(filepath.Base(p.exe), " (deleted)") == name ||
			strings.HasPrefix(p.exe, "/memfd:ctr-lite") && strings.HasPrefix(p.cmdline, "ctr-lite ")
	}
	run := func(args ...string) {
		t.Helper()
		out, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		c := exec.Command(bin, b.args(args...)...)
		c.Stdout, c.Stderr = out, out
		if err := c.Run(); err != nil {
			data, _ := os.ReadFile(out.Name())
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, data)
		}
	}
	run("create", "--bundle", b.dir, b.id)
	init := b.state(b.id).Pid
	dirs := cgDirs(b.spec.Linux.CgroupsPath)
	if len(dirs) == 0 {
		t.Fatalf("no cgroup %s", b.spec.Linux.CgroupsPath)
	}
	check := func(when string, wantOurs []int) {
		t.Helper()
		if got := cgroupProcs(t, dirs); !slices.Equal(got, []int{init}) {
			t.Errorf("%s: cgroup.procs of %v = %v, want only the init %d", when, dirs, got, init)
		}
		var found []int
		for _, p := range procTable() {
			if p.ppid == init {
				t.Errorf("%s: the init %d has a child %d (%s)", when, init, p.pid, p.cmdline)
			}
			if p.pid == init {
				for _, q := range procTable() {
					if q.pid == p.ppid && ours(q) {
						t.Errorf("%s: the init's parent %d runs ctr-lite (%s): a monitor", when, q.pid, q.exe)
					}
				}
			}
			if ours(p) {
				found = append(found, p.pid)
			}
		}
		if !slices.Equal(found, wantOurs) {
			t.Errorf("%s: processes running ctr-lite = %v, want %v", when, found, wantOurs)
		}
	}
	// The raw init (CTR_LITE_INIT=raw) waits for start in the sealed
	// exec trampoline, not in ctr-lite: then nothing runs ctr-lite.
	wantInit := []int{init}
	if exe, _ := os.Readlink("/proc/" + strconv.Itoa(init) + "/exe"); strings.HasPrefix(exe, "/memfd:ctr-lite-exec") {
		wantInit = nil
	}
	check("after create", wantInit)
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(init) + "/status"); err == nil {
		for _, l := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				t.Logf("the init's resident memory while it waits for start: %s", strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:")))
			}
		}
	}
	run("start", b.id)
	check("after start", nil)
	if exe, _ := os.Readlink("/proc/" + strconv.Itoa(init) + "/exe"); filepath.Base(exe) != "busybox" {
		t.Errorf("after start the init runs %q, want the container's busybox", exe)
	}
	b.must("delete", "--force", b.id)
}
