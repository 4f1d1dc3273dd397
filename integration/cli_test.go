package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestUserPrintsVersion(t *testing.T) {
	r := mustCtrLite(t, "--version")
	for _, re := range []string{`(?m)^ctr-lite version \S+$`, `(?m)^spec: 1\.\d+\.\d+`, `(?m)^go: go1\.`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("--version output lacks %s:\n%s", re, r.stdout)
		}
	}
}

func TestUserAsksForHelpOnEveryCommand(t *testing.T) {
	r := ctrLite(t, "--help")
	if r.code != 0 {
		t.Fatalf("--help: %s", r)
	}
	var names []string
	inCommands := false
	for _, line := range strings.Split(r.stderr, "\n") {
		switch {
		case strings.HasPrefix(line, "Commands:"):
			inCommands = true
		case inCommands && strings.HasPrefix(line, "  "):
			names = append(names, strings.Fields(line)[0])
		case inCommands:
			inCommands = false
		}
	}
	if len(names) == 0 {
		t.Fatalf("no commands listed:\n%s", r.stderr)
	}
	for _, n := range names {
		r := ctrLite(t, n, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "Usage: ctr-lite "+n) {
			t.Errorf("%s --help: %s", n, r)
		}
	}
}

func TestUserMistypesACommand(t *testing.T) {
	// runc's CLI library exits 3 for an unknown command.
	r := wantFail(t, []string{"frobnicate"}, `unknown command "frobnicate"`)
	if r.code != 3 {
		t.Errorf("exit %d, want 3", r.code)
	}
	r = ctrLite(t, "--bogus", "list")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "ctr-lite: flag provided but not defined: -bogus\n") ||
		strings.Count(r.stderr, "Usage: ctr-lite") != 1 {
		t.Errorf("unknown global flag: %s", r)
	}
}

func TestOrchestratorReadsJSONLogLine(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "log.json")
	r := ctrLite(t, "--log", logFile, "--log-format", "json", "frobnicate")
	if r.code == 0 {
		t.Fatal("unknown command succeeded")
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var last struct{ Level, Msg, Time string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("last log line is not JSON: %v: %q", err, lines[len(lines)-1])
	}
	if last.Level != "error" || !strings.Contains(last.Msg, "frobnicate") || last.Time == "" {
		t.Errorf("last log line = %+v", last)
	}
}

func TestUserGivesBadLogFormat(t *testing.T) {
	wantFail(t, []string{"--log-format", "xml", "version"}, "xml")
}

// runc's CLI library moves a command's flags in front of its arguments:
// `delete ID --force`, `update ID --pids-limit N` and `create ID -b DIR`
// work, "--" ends the flags, and signal 0 checks the container is alive.
func TestUserPutsFlagsAfterContainerID(t *testing.T) {
	b := newBundle(t, "flagsafter", "sleep", "1000")
	b.mustDetached("create", b.id, "-b", b.dir)
	b.must("start", b.id)
	pid := b.state(b.id).Pid
	b.must("kill", b.id, "0")
	b.must("kill", "--all", b.id, "0")
	b.must("kill", "-a", b.id, "0")
	if st := b.state(b.id); st.Status != "running" || st.Pid != pid {
		t.Errorf("signal 0 changed the container: %+v", st)
	}
	b.must("update", b.id, "--pids-limit", "77")
	if got := readTrim(t, cgFile(b.spec.Linux.CgroupsPath, "pids", "pids.max", "pids.max")); got != "77" {
		t.Errorf("update ID --pids-limit 77: pids.max is %q", got)
	}
	// runc 1.1's update flags: kernel memory is ignored with a warning,
	// Intel RDT refused (ctr-lite has no linux.intelRdt).
	if r := b.must("update", b.id, "--kernel-memory", "1M"); !strings.Contains(r.stderr, "ignored") {
		t.Errorf("update --kernel-memory: no warning: %s", r)
	}
	b.fail([]string{"update", b.id, "--l3-cache-schema", "L3:0=f"}, `update "`+b.id+`"`, "intelRdt")
	// What follows exec's ID is the command: its flags are its own.
	if r := b.must("exec", b.id, "echo", "--env", "X=1", "-t"); r.stdout != "--env X=1 -t\n" {
		t.Errorf("exec ID echo --env X=1 -t printed %q", r.stdout)
	}
	if r := b.must("exec", b.id, "--", "echo", "after", "dashes"); r.stdout != "after dashes\n" {
		t.Errorf("exec ID -- echo printed %q", r.stdout)
	}
	r := b.fail([]string{"state", "--", "--force"}, `state "--force"`)
	if r.code != 1 {
		t.Errorf("state -- --force exited %d, want 1", r.code)
	}
	b.must("delete", b.id, "--force")
	b.wantNothingLeft()
	// Dead, signal 0 says so.
	b.fail([]string{"kill", b.id, "0"}, "does not exist")
}

// An unknown flag prints the error, then the command's usage once; like
// runc, a mistake in the command line exits 1.
func TestUserMistypesAFlag(t *testing.T) {
	for _, args := range [][]string{{"delete", "--bogus", "x"}, {"delete", "x", "--bogus"}, {"exec", "--bogus", "x", "true"},
		{"update", "x", "--memory"}} {
		r := ctrLite(t, args...)
		if r.code != 1 {
			t.Errorf("%v: exit %d, want 1", args, r.code)
		}
		lines := strings.Split(r.stderr, "\n")
		if !strings.HasPrefix(lines[0], "ctr-lite: "+args[0]+": flag ") {
			t.Errorf("%v: first line is not the error: %q", args, lines[0])
		}
		if n := strings.Count(r.stderr, "Usage: ctr-lite "+args[0]); n != 1 {
			t.Errorf("%v: usage printed %d times:\n%s", args, n, r.stderr)
		}
		if !strings.HasSuffix(r.stderr, "\n") || strings.HasSuffix(r.stderr, "\n\n\n") {
			t.Errorf("%v: usage does not end with one newline: %q", args, r.stderr[len(r.stderr)-20:])
		}
	}
	for _, args := range [][]string{{"delete"}, {"kill"}, {"kill", "a", "b", "c"}, {"exec"}, {"start", "a", "b"}} {
		if r := ctrLite(t, args...); r.code != 1 {
			t.Errorf("%v: exit %d, want 1 (runc's usage error)\n%s", args, r.code, r)
		}
	}
	r := wantFail(t, []string{"--rootless", "maybe", "list"}, "--rootless", "maybe")
	if r.code != 1 {
		t.Errorf("--rootless maybe: exit %d, want 1", r.code)
	}
}

// runc's exec exits 255 when it fails before the process runs; the
// process it started is gone.
func TestUserGetsExecFailureExitCode(t *testing.T) {
	b := newBundle(t, "exec255", "sleep", "1000")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	b.state(b.id)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"exec", "--pid-file", "/missing/dir/f", b.id, "sleep", "999"}, "pid file"},
		{[]string{"exec", "no-such-container", "true"}, "does not exist"},
		{[]string{"exec", b.id, "/no/such/program"}, "/no/such/program"},
		{[]string{"exec", "--user", "x", b.id, "true"}, "--user"},
		{[]string{"exec", "-g", "-1", b.id, "true"}, "--additional-gids"},
		{[]string{"exec", b.id}, "no command"},
		{[]string{"exec", "--apparmor", "p", b.id, "true"}, "AppArmor is not enabled"},
		{[]string{"exec", "--process-label", "system_u:system_r:container_t:s0", b.id, "true"}, "SELinux is not enabled"},
	} {
		r := b.detached(nil, tc.args...)
		checkOneLineError(t, r, []string{tc.want})
		if r.code != 255 {
			t.Errorf("%v: exit %d, want 255", tc.args, r.code)
		}
	}
	// The process of the failed --pid-file exec was killed.
	out := b.must("exec", b.id, "ps", "-o", "args")
	if strings.Contains(out.stdout, "sleep 999") {
		t.Errorf("a failed exec left its process:\n%s", out.stdout)
	}
	b.must("delete", "-f", b.id)
}

// checkpoint and restore take runc's flags and refuse: no CRIU.
func TestUserTriesCheckpointAndRestore(t *testing.T) {
	b := newBundle(t, "criu", "sleep", "1000")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	b.state(b.id)
	b.fail([]string{"--criu", "/usr/sbin/criu", "checkpoint", "--image-path", t.TempDir(), "--leave-running", b.id}, "checkpoint", "CRIU")
	b.fail([]string{"restore", "-b", b.dir, "--image-path", t.TempDir(), "-d", b.id + "x"}, "restore", "CRIU")
	if st := b.state(b.id); st.Status != "running" {
		t.Errorf("refused checkpoint changed the container: %+v", st)
	}
	b.must("delete", "-f", b.id)
}
