package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// start and kill explain their kernel steps as every other command does:
// start opens the exec FIFO, reads it to EOF (the init's execve) and
// unlinks it; kill is kill(2) of the init, and with --all of each
// process in the container's cgroup. Without --explain they print
// nothing.
func TestUserExplainsStartAndKill(t *testing.T) {
	b := newBundle(t, "explain", "sleep", "1000")
	b.mustDetached("create", "-b", b.dir, b.id)
	pid := b.state(b.id).Pid
	fifo := filepath.Join(b.root, b.id, "exec.fifo")
	wantLines := func(what, stderr string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s --explain lacks %q:\n%s", what, w, stderr)
			}
		}
	}
	r := b.must("--explain", "start", b.id)
	wantLines("start", r.stderr,
		"explain[start]: open("+fifo+", O_RDONLY|O_NONBLOCK|O_CLOEXEC)",
		"explain[start]: read(exec fifo, until EOF)",
		"explain[start]: unlink("+fifo+")")
	if st := b.state(b.id); st.Status != "running" {
		t.Fatalf("after start the container is %s, want running", st.Status)
	}
	if r := b.must("kill", b.id, "0"); r.stderr != "" {
		t.Errorf("kill without --explain printed %q", r.stderr)
	}
	r = b.must("kill", "--explain", b.id, "0")
	wantLines("kill", r.stderr, fmt.Sprintf("explain[kill]: kill(%d, 0)", pid))
	r = b.must("kill", "--all", "--explain", b.id, "KILL")
	wantLines("kill --all", r.stderr, fmt.Sprintf("explain[kill]: kill(%d, SIGKILL)", pid))
	b.waitStatus(b.id, "stopped")
	b.must("delete", b.id)
	b.wantNothingLeft()
}

// list and state explain the kernel reads they decide a status from, in
// the order they make them: the container's saved state, the init's
// /proc/PID/stat (alive, not a reused pid), the exec FIFO (created or
// started), the cgroup freezer (paused); list also the state directory's
// owner and /etc/passwd. What they print on stdout is unchanged.
func TestUserExplainsListAndState(t *testing.T) {
	b := newBundle(t, "explainls", "sleep", "1000")
	b.mustDetached("create", "-b", b.dir, b.id)
	pid := b.state(b.id).Pid
	dir := filepath.Join(b.root, b.id)
	wantLines := func(what string, r result, want ...string) {
		t.Helper()
		last := -1
		for _, w := range want {
			i := strings.Index(r.stderr, w)
			if i < 0 {
				t.Errorf("%s --explain lacks %q:\n%s", what, w, r.stderr)
				continue
			}
			if i < last {
				t.Errorf("%s --explain: %q out of order:\n%s", what, w, r.stderr)
			}
			last = i
		}
		plain := b.must(strings.Fields(what)...)
		if plain.stderr != "" || (plain.stdout != r.stdout && what != "list") {
			t.Errorf("%s: without --explain stdout %q stderr %q; with it stdout %q", what, plain.stdout, plain.stderr, r.stdout)
		}
	}
	stat := fmt.Sprintf("/proc/%d/stat", pid)
	wantLines("state "+b.id, b.must("--explain", "state", b.id),
		"explain[state]: read("+filepath.Join(dir, "status.json")+")",
		"explain[state]: read("+stat+")", "    -> state ", ": alive\n",
		"explain[state]: lstat("+filepath.Join(dir, "exec.fifo")+")", "    -> there: created")
	b.must("start", b.id)
	b.must("pause", b.id)
	freezer := "freezer.state)"
	if !exists("/sys/fs/cgroup/freezer") {
		freezer = "cgroup.freeze)"
	}
	wantLines("state "+b.id, b.must("--explain", "state", b.id),
		"explain[state]: read("+stat+")", "    -> absent: started", freezer, "    -> frozen: paused")
	b.must("resume", b.id)
	wantLines("list", b.must("--explain", "list"),
		"explain[list]: getdents64("+b.root+")", "    -> 1: "+b.id,
		"explain[list]: read("+filepath.Join(dir, "status.json")+")",
		"explain[list]: read("+stat+")", "    -> absent: started", freezer, "    -> not frozen: running",
		"explain[list]: stat("+dir+")", "    -> uid 0",
		"explain[list]: read(/etc/passwd)", "    -> root")
	wantLines("list -q", b.must("--explain", "list", "-q"),
		"explain[list]: getdents64("+b.root+")", "explain[list]: read("+filepath.Join(dir, "status.json")+")", "    -> listed")
	b.must("kill", b.id, "KILL")
	b.waitStatus(b.id, "stopped")
	r := b.must("--explain", "state", b.id)
	wantLines("state "+b.id, r, "explain[state]: read("+stat+")", ": stopped\n") // a zombie or gone
	if strings.Contains(r.stderr, "exec.fifo") {
		t.Errorf("state of a stopped container looked at the exec FIFO:\n%s", r.stderr)
	}
	b.must("delete", b.id)
	b.wantNothingLeft()
}

// ps, events, stats and inspect explain the reads they make of a running
// container (its saved state, the init's /proc entry, its cgroup's files,
// the run of ps(1)); without --explain they print nothing on stderr.
func TestUserExplainsPsEventsStatsAndInspect(t *testing.T) {
	b := newBundle(t, "explainrd", "sleep", "1000")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	pid := b.state(b.id).Pid
	saved := "read(" + filepath.Join(b.root, b.id, "state.json") + ")"
	stat := fmt.Sprintf("read(/proc/%d/stat)", pid)
	counters := "read(memory.*, cpu.stat, cpuacct.*" // v1's files first
	if cgroupV2() {
		counters = "read(pids.*, memory.stat"
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"ps", b.id}, []string{"explain[ps]: " + saved, "explain[ps]: read(cgroup.procs in ", fmt.Sprintf("    -> [%d]", pid),
			"explain[ps]: execve(ps -ef)"}},
		{[]string{"ps", "--format", "json", b.id}, []string{"explain[ps]: " + saved, "explain[ps]: read(cgroup.procs in "}},
		{[]string{"events", "--stats", b.id}, []string{"explain[events]: " + saved, "explain[events]: " + stat, ": alive\n",
			"explain[events]: " + counters}},
		{[]string{"stats", "--no-stream", "--format", "json", b.id}, []string{"explain[stats]: " + saved, "explain[stats]: " + stat,
			"explain[stats]: " + counters, "explain[stats]: read(oom_kill of "}},
		{[]string{"stats", "--no-stream", "--format", "json"}, []string{"explain[stats]: getdents64(" + b.root + ")", "explain[stats]: " + saved}},
		{[]string{"inspect", b.id}, []string{"explain[inspect]: " + saved, "explain[inspect]: " + stat,
			fmt.Sprintf("explain[inspect]: read(/proc/%d/{ns/*, cgroup, status, uid_map, gid_map, limits, mountinfo})", pid),
			"explain[inspect]: read(the limit files and ", "explain[inspect]: read(cgroup.procs in "}},
	} {
		r := b.must(append([]string{"--explain"}, tc.args...)...)
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v --explain lacks %q:\n%s", tc.args, w, r.stderr)
			}
		}
		if plain := b.must(tc.args...); plain.stderr != "" {
			t.Errorf("%v without --explain printed %q", tc.args, plain.stderr)
		}
	}
	b.must("delete", "--force", b.id)
	b.wantNothingLeft()
}
