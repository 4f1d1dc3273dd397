package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// cgroupV2 tells whether the host has one cgroup2 hierarchy (the VM) or
// v1 controllers (this hybrid host).
func cgroupV2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

// cgPath is a unique cgroup path for one test; t.Cleanup kills what is
// left in it and removes it from every hierarchy, even if the test failed.
func cgPath(t *testing.T, name string) string {
	t.Helper()
	requireRoot(t)
	p := fmt.Sprintf("/ctr-lite-test-%d-%s", os.Getpid(), name)
	t.Cleanup(func() {
		ctrLite(t, "cgroup", "delete", "--kill", p)
		for _, d := range cgDirs(p) {
			os.Remove(d)
		}
	})
	return p
}

// cgDirs lists the directories of cgroup path p that exist, in any
// hierarchy.
func cgDirs(p string) []string {
	var found []string
	cands, _ := filepath.Glob("/sys/fs/cgroup/*" + p)
	cands = append(cands, "/sys/fs/cgroup"+p)
	for _, d := range cands {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			found = append(found, d)
		}
	}
	return found
}

// cgFile is the path of a cgroup file: v1 in the controller's hierarchy,
// v2 in the one directory.
func cgFile(p, ctrl, v1, v2 string) string {
	if cgroupV2() {
		return filepath.Join("/sys/fs/cgroup", p, v2)
	}
	return filepath.Join("/sys/fs/cgroup", ctrl, p, v1)
}

func readTrim(t *testing.T, f string) string {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func wantNoCgroup(t *testing.T, p string) {
	t.Helper()
	if d := cgDirs(p); len(d) > 0 {
		t.Errorf("cgroup %s left behind: %v", p, d)
	}
}

func busybox(t *testing.T) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	return bb
}

func TestUserCreatesCgroupWithMemoryPidsAndCPULimits(t *testing.T) {
	p := cgPath(t, "limits")
	r := mustCtrLite(t, "cgroup", "--explain", "create", p, "--memory", "64m", "--pids-limit", "10",
		"--cpu-quota", "50000", "--cpu-period", "100000")
	checks := []struct{ file, want string }{
		{cgFile(p, "memory", "memory.limit_in_bytes", "memory.max"), "67108864"},
		{cgFile(p, "pids", "pids.max", "pids.max"), "10"},
		{cgFile(p, "cpu", "cpu.cfs_quota_us", "cpu.max"), map[bool]string{false: "50000", true: "50000 100000"}[cgroupV2()]},
	}
	show := mustCtrLite(t, "cgroup", "show", p).stdout
	for _, c := range checks {
		if got := readTrim(t, c.file); got != c.want {
			t.Errorf("%s = %q, want %q", c.file, got, c.want)
		}
		// --explain and show print what the kernel holds, file by file.
		line := c.file + " = " + c.want
		if !strings.Contains(r.stderr, line) {
			t.Errorf("--explain lacks %q:\n%s", line, r.stderr)
		}
		if !strings.Contains(show, line) {
			t.Errorf("show lacks %q:\n%s", line, show)
		}
	}
	if !cgroupV2() {
		// Hybrid (runc 1.1): the v1 controllers and the cgroup2 directory.
		for _, d := range []string{"memory", "pids", "cpu", "devices", "freezer", "unified"} {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", d, p)); err != nil && (d != "unified" || hybrid()) {
				t.Errorf("no %s directory: %v", d, err)
			}
		}
	}
	mustCtrLite(t, "cgroup", "delete", p)
	wantNoCgroup(t, p)
}

func hybrid() bool {
	_, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers")
	return err == nil
}

func TestUserForkBombsAPidsLimitedCgroup(t *testing.T) {
	p := cgPath(t, "pids")
	r := ctrLite(t, "cgroup", "run", p, "--pids-limit", "5", "--", busybox(t), "sh", "-c",
		"for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait")
	if !strings.Contains(r.stderr, "can't fork") {
		t.Errorf("no fork failure past pids.max=5:\n%s", r)
	}
	wantNoCgroup(t, p) // run deletes the cgroup after CMD exits
}

func TestUserRunsAShellInACgroupAndSeesIt(t *testing.T) {
	p := cgPath(t, "run")
	r := ctrLite(t, "cgroup", "run", p, "--memory", "32m", "--", busybox(t), "sh", "-c", "cat /proc/self/cgroup; exit 7")
	if r.code != 7 {
		t.Errorf("run exit %d, want CMD's 7:\n%s", r.code, r)
	}
	want := "memory:" + p
	if cgroupV2() {
		want = "0::" + p
	}
	if !strings.Contains(r.stdout, want) {
		t.Errorf("/proc/self/cgroup lacks %q:\n%s", want, r.stdout)
	}
	if hybrid() && !strings.Contains(r.stdout, "0::"+p) {
		t.Errorf("hybrid: not in the cgroup2 directory too:\n%s", r.stdout)
	}
	wantNoCgroup(t, p)
}

func TestUserFreezesAndThawsACgroup(t *testing.T) {
	p := cgPath(t, "freeze")
	mustCtrLite(t, "cgroup", "create", p)
	cmd := exec.Command(busybox(t), "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	mustCtrLite(t, "cgroup", "add", p, pid)
	procs := readTrim(t, cgFile(p, "freezer", "cgroup.procs", "cgroup.procs"))
	if procs != pid {
		t.Fatalf("cgroup.procs = %q, want %s", procs, pid)
	}
	mustCtrLite(t, "cgroup", "freeze", p)
	state := cgFile(p, "freezer", "freezer.state", "cgroup.freeze")
	if got, want := readTrim(t, state), map[bool]string{false: "FROZEN", true: "1"}[cgroupV2()]; got != want {
		t.Errorf("%s = %q, want %q", state, got, want)
	}
	if cgroupV2() {
		if ev := readTrim(t, cgFile(p, "", "", "cgroup.events")); !strings.Contains(ev, "frozen 1") {
			t.Errorf("cgroup.events: %q, want frozen 1", ev)
		}
	} else if st := procState(t, pid); st != "D" {
		// The v1 freezer parks tasks in an uninterruptible sleep.
		t.Errorf("frozen process state %q, want D", st)
	}
	mustCtrLite(t, "cgroup", "thaw", p)
	if got, want := readTrim(t, state), map[bool]string{false: "THAWED", true: "0"}[cgroupV2()]; got != want {
		t.Errorf("%s = %q, want %q", state, got, want)
	}
	if st := procState(t, pid); st != "S" {
		t.Errorf("thawed process state %q, want S", st)
	}
	// delete refuses while the process is in; --kill kills it first.
	wantFail(t, []string{"cgroup", "delete", p}, "still has processes")
	mustCtrLite(t, "cgroup", "delete", "--kill", p)
	if err := cmd.Wait(); err == nil || cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sleep: %v, want killed by SIGKILL", err)
	}
	wantNoCgroup(t, p)
}

// procState is the state letter in /proc/PID/status.
func procState(t *testing.T, pid string) string {
	t.Helper()
	for _, l := range strings.Split(readTrim(t, "/proc/"+pid+"/status"), "\n") {
		if v, ok := strings.CutPrefix(l, "State:"); ok {
			return strings.Fields(v)[0]
		}
	}
	t.Fatalf("no State in /proc/%s/status", pid)
	return ""
}

func TestUserReadsCgroupStatsAsJSON(t *testing.T) {
	p := cgPath(t, "stats")
	r := mustCtrLite(t, "cgroup", "run", p, "--memory", "64m", "--pids-limit", "20", "--",
		binary, "cgroup", "stats", p, "--format", "json")
	var s struct {
		Memory struct {
			Usage struct{ Usage, Limit uint64 }
		}
		Pids struct{ Current, Limit uint64 }
		CPU  struct{ Usage struct{ Total uint64 } }
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("stats JSON: %v\n%s", err, r.stdout)
	}
	if s.Memory.Usage.Usage == 0 || s.Memory.Usage.Limit != 64<<20 {
		t.Errorf("memory usage %d limit %d, want > 0 and 64m:\n%s", s.Memory.Usage.Usage, s.Memory.Usage.Limit, r.stdout)
	}
	if s.Pids.Current == 0 || s.Pids.Limit != 20 {
		t.Errorf("pids %d/%d, want > 0 / 20", s.Pids.Current, s.Pids.Limit)
	}
	wantNoCgroup(t, p)
}

func TestUserDeniesDevNullInACgroup(t *testing.T) {
	p := cgPath(t, "devices")
	r := ctrLite(t, "cgroup", "run", p, "--device-deny", "c 1:3 rwm", "--", busybox(t), "sh", "-c",
		"echo x > /dev/zero && echo zero-ok; echo x > /dev/null && echo null-ok")
	if !strings.Contains(r.stdout, "zero-ok") || strings.Contains(r.stdout, "null-ok") {
		t.Errorf("want /dev/zero open, /dev/null denied:\n%s", r)
	}
	if !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("opening /dev/null: want EPERM:\n%s", r)
	}
	wantNoCgroup(t, p)
}

func TestUserLowersCgroupMemoryBelowUsage(t *testing.T) {
	p := cgPath(t, "below")
	// The shell inside has charged memory to the cgroup; 8k is below it.
	r := mustCtrLite(t, "cgroup", "run", p, "--memory", "64m", "--", busybox(t), "sh", "-c",
		binary+" cgroup set "+p+" --memory 8k; echo set=$?")
	if !strings.Contains(r.stdout, "set=1") {
		t.Errorf("set --memory 8k succeeded:\n%s", r)
	}
	// The error names the group, the limit asked for and the usage.
	if !strings.Contains(r.stderr, "ctr-lite: ") || !strings.Contains(r.stderr, p) || !strings.Contains(r.stderr, "Memory=8192") || !strings.Contains(r.stderr, "usage") {
		t.Errorf("error does not name the group, the limit and the usage:\n%s", r.stderr)
	}
	wantNoCgroup(t, p)
}

func TestUserGivesBadCgroupInput(t *testing.T) {
	p := cgPath(t, "bad")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"negative memory", []string{"create", p, "--memory", "-5m"}, []string{"--memory", "negative"}},
		{"memory 1 byte", []string{"create", p, "--memory", "1"}, []string{"memory.limit", "below one page"}},
		{"bad size", []string{"create", p, "--memory", "12q"}, []string{"--memory", "12q"}},
		{"bad pids", []string{"create", p, "--pids-limit", "many"}, []string{"--pids-limit"}},
		{"bad shares", []string{"create", p, "--cpu-shares", "1"}, []string{"cpu.shares"}},
		{"bad device rule", []string{"create", p, "--device-deny", "x 1:3 rwm"}, []string{"device rule"}},
		{"unknown flag", []string{"create", p, "--bogus", "1"}, []string{"bogus"}},
		{"unknown subcommand", []string{"frob", p}, []string{`unknown subcommand "frob"`}},
		{"kernel refuses cpuset", []string{"create", p, "--cpuset-cpus", "63"}, []string{"cpuset.cpus"}},
		{"delete missing", []string{"delete", p}, []string{"does not exist"}},
		{"add to missing", []string{"add", p, "1"}, []string{"does not exist"}},
		{"resources file missing", []string{"create", p, "--resources", "/nonexistent.json"}, []string{"--resources", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFail(t, append([]string{"cgroup"}, tt.args...), tt.want...)
			wantNoCgroup(t, p)
		})
	}
	t.Run("malformed resources JSON", func(t *testing.T) {
		r := ctrLiteIn(t, []byte(`{"memory": {"limit": "lots"}}`), "cgroup", "create", p, "--resources", "-")
		if r.code == 0 || !strings.Contains(r.stderr, "malformed specs.LinuxResources JSON") {
			t.Errorf("want a JSON error:\n%s", r)
		}
		wantNoCgroup(t, p)
	})
	// runc's cgroupfs driver takes colons as part of a directory name
	// (containerd's slice:prefix:name without --systemd-cgroup).
	t.Run("colon path is an ordinary name", func(t *testing.T) {
		c := p + "-x.slice:ctr:x"
		mustCtrLite(t, "cgroup", "create", c)
		mustCtrLite(t, "cgroup", "delete", c)
		wantNoCgroup(t, c)
	})
	t.Run("add a pid that does not exist", func(t *testing.T) {
		mustCtrLite(t, "cgroup", "create", p)
		wantFail(t, []string{"cgroup", "add", p, "999999999"}, "999999999", "no such process")
		mustCtrLite(t, "cgroup", "delete", p)
		wantNoCgroup(t, p)
	})
	t.Run("resources JSON limits", func(t *testing.T) {
		r := ctrLiteIn(t, []byte(`{"pids": {"limit": 7}}`), "cgroup", "create", p, "--resources", "-")
		if r.code != 0 {
			t.Fatal(r)
		}
		if got := readTrim(t, cgFile(p, "pids", "pids.max", "pids.max")); got != "7" {
			t.Errorf("pids.max = %q, want 7", got)
		}
		mustCtrLite(t, "cgroup", "delete", p)
	})
}

func TestUserAsksForTheCgroupMode(t *testing.T) {
	r := mustCtrLite(t, "cgroup", "mode")
	want := "mode: v1"
	switch {
	case cgroupV2():
		want = "mode: v2"
	case hybrid():
		want = "mode: hybrid"
	}
	if !strings.HasPrefix(r.stdout, want+"\n") {
		t.Errorf("mode output does not start with %q:\n%s", want, r.stdout)
	}
	if cgroupV2() && !strings.Contains(r.stdout, "v2 /sys/fs/cgroup: ") {
		t.Errorf("no v2 hierarchy listed:\n%s", r.stdout)
	}
}
