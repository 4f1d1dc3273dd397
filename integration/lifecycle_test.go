package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultCaps is `spec`'s capability set: CAP_KILL (5),
// CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
const defaultCaps = "0000000020000420"

// statusField is one "Name:\tvalue" line of /proc/PID/status.
func statusField(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, name)
	return ""
}

// cgroupLines is /proc/PID/cgroup as hierarchy -> path.
func cgroupLines(t *testing.T, pid string) map[string]string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 {
			m[f[0]+":"+f[1]] = f[2]
		}
	}
	return m
}

var containerNS = []string{"pid", "mnt", "net", "uts", "ipc", "cgroup"}

func TestUserCreatesAndStartsContainer(t *testing.T) {
	b := newBundle(t, "create", "sh", "-c", "echo started $$ >/mnt/out; exec sleep 1000")
	b.spec.Linux.CgroupsPath = "" // runc's default: ID under our own cgroup
	out := b.hostDir("/mnt")
	pidFile := filepath.Join(t.TempDir(), "pid")
	b.mustDetached("create", "--bundle", b.dir, "--pid-file", pidFile, b.id)

	st := b.state(b.id)
	if st.Status != "created" || st.Pid <= 0 {
		t.Fatalf("after create: %+v", st)
	}
	if data, _ := os.ReadFile(pidFile); string(data) != strconv.Itoa(st.Pid) {
		t.Errorf("--pid-file holds %q, state pid is %d", data, st.Pid)
	}
	pid := strconv.Itoa(st.Pid)
	// Namespaces, cgroup, capabilities and no_new_privs are in place
	// before start (runtime.md "create"): the program has not run yet.
	for _, ns := range containerNS {
		if nsInode(t, pid, ns) == nsInode(t, "self", ns) {
			t.Errorf("created init shares our %s namespace", ns)
		}
	}
	ours := cgroupLines(t, "self")
	for h, p := range cgroupLines(t, pid) {
		if want := filepath.Join(ours[h], b.id); p != want {
			t.Errorf("init's cgroup in %s is %s, want %s", h, p, want)
		}
	}
	if len(ownCgroupDirs(b.id)) == 0 {
		t.Errorf("no cgroup directory named %s under our own cgroup", b.id)
	}
	if got := statusField(t, st.Pid, "CapEff"); got != defaultCaps {
		t.Errorf("created init CapEff = %s, want %s", got, defaultCaps)
	}
	if got := statusField(t, st.Pid, "NoNewPrivs"); got != "1" {
		t.Errorf("created init NoNewPrivs = %s, want 1", got)
	}
	if _, err := os.Stat(filepath.Join(out, "out")); err == nil {
		t.Fatal("the program ran before start")
	}

	b.must("start", b.id)
	if got := waitFile(t, filepath.Join(out, "out")); got != "started 1\n" {
		t.Errorf("program wrote %q, want \"started 1\" (pid 1 of its PID namespace)", got)
	}
	if st2 := b.state(b.id); st2.Status != "running" || st2.Pid != st.Pid {
		t.Errorf("after start: %+v", st2)
	}
	b.must("kill", b.id, "KILL")
	if st3 := b.waitStatus(b.id, "stopped"); st3.Pid != 0 {
		t.Errorf("stopped container reports pid %d", st3.Pid)
	}
	b.must("delete", b.id)
	b.fail([]string{"state", b.id}, `state "`+b.id+`"`, "does not exist")
}

func TestUserReadsContainerStateJSON(t *testing.T) {
	b := newBundle(t, "statejson", "sleep", "1000")
	b.mustDetached("create", "-b", b.dir, b.id)
	r := b.must("state", b.id)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("state is not JSON: %v\n%s", err, r.stdout)
	}
	// runc's field names; annotations is omitted when empty.
	want := []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}
	if len(m) != len(want) {
		t.Errorf("state has %d fields, want %v:\n%s", len(m), want, r.stdout)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("state lacks %q", k)
		}
	}
	st := b.state(b.id)
	if !strings.HasPrefix(st.Version, "1.") || st.ID != b.id || st.Bundle != b.dir ||
		st.Rootfs != filepath.Join(b.dir, "rootfs") || st.Owner != "" || st.Created.IsZero() {
		t.Errorf("state = %+v (owner is empty in runc's state)", st)
	}
	// list names the owner of the container's state: runc's "root" for
	// uid 0, from /etc/passwd.
	var list []map[string]any
	if err := json.Unmarshal([]byte(b.must("list", "--format", "json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range list {
		if c["id"] == b.id {
			found = true
			if c["owner"] != "root" {
				t.Errorf("list owner = %v, want root", c["owner"])
			}
		}
	}
	if !found {
		t.Errorf("%s not listed", b.id)
	}
	b.must("delete", b.id)
}

func TestUserRunsContainerInForeground(t *testing.T) {
	b := newBundle(t, "fg", "sh", "-c", "exit 3")
	r := b.ctr("run", "-b", b.dir, b.id)
	if r.code != 3 {
		t.Errorf("run of `exit 3` exited %d, want 3:\n%s", r.code, r)
	}
	b.fail([]string{"state", b.id}, "does not exist") // run deletes it

	// --keep: the stopped container stays until delete.
	if r := b.ctr("run", "--keep", "-b", b.dir, b.id); r.code != 3 {
		t.Errorf("run --keep of `exit 3` exited %d, want 3:\n%s", r.code, r)
	}
	if st := b.state(b.id); st.Status != "stopped" {
		t.Errorf("after run --keep: %+v", st)
	}
	b.must("delete", b.id)

	// A signal to run reaches the container's init (here a trap).
	b.spec.Process.Args = []string{"sh", "-c", "trap 'exit 7' TERM; echo ready >/mnt/ready; sleep 1000 & wait"}
	out := b.hostDir("/mnt")
	cmd := exec.Command(binary, b.args("run", "-b", b.dir, b.id)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(out, "ready"))
	b.state(b.id)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 7 {
		t.Errorf("run after SIGTERM trapped with exit 7: %v", err)
	}

	// Killed by a signal: 128+N.
	os.Remove(filepath.Join(out, "ready"))
	b.spec.Process.Args = []string{"sh", "-c", "echo ready >/mnt/ready; exec sleep 1000"}
	b.write()
	cmd = exec.Command(binary, b.args("run", "-b", b.dir, b.id)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(out, "ready"))
	b.state(b.id)
	b.must("kill", b.id, "9")
	cmd.Wait()
	if got := cmd.ProcessState.ExitCode(); got != 128+9 {
		t.Errorf("run of a container killed by SIGKILL exited %d, want 137", got)
	}
	b.fail([]string{"state", b.id}, "does not exist")
}

func TestUserExecsIntoRunningContainer(t *testing.T) {
	b := newBundle(t, "exec", "sleep", "1000")
	b.spec.Process.Env = append(b.spec.Process.Env, "FROM_CONFIG=1")
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
	b.write()
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	init := strconv.Itoa(b.state(b.id).Pid)

	if r := b.ctr("exec", b.id, "sh", "-c", "exit 4"); r.code != 4 {
		t.Errorf("exec `exit 4` exited %d:\n%s", r.code, r)
	}
	r := b.must("exec", "--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1001", b.id,
		"sh", "-c", `echo "$FOO $FROM_CONFIG $(pwd) $(id -u):$(id -g)"`)
	if got := strings.TrimSpace(r.stdout); got != "bar 1 /tmp 1000:1001" {
		t.Errorf("exec with --env --cwd --user printed %q", got)
	}

	// A detached exec joins every namespace and the cgroup of the init.
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	b.mustDetached("exec", "-d", "--pid-file", pidFile, b.id, "sleep", "1000")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	epid, _ := strconv.Atoi(string(data))
	b.pids = append(b.pids, epid)
	for _, ns := range containerNS {
		if nsInode(t, string(data), ns) != nsInode(t, init, ns) {
			t.Errorf("exec'd process is not in the init's %s namespace", ns)
		}
	}
	ic := cgroupLines(t, init)
	for h, p := range cgroupLines(t, string(data)) {
		if ic[h] != p {
			t.Errorf("exec'd process in cgroup %s %s, init in %s", h, p, ic[h])
		}
	}

	// --process FILE replaces the process entirely.
	proc := specs.Process{Args: []string{"sh", "-c", "echo $X"}, Cwd: "/",
		Env: []string{"PATH=/bin", "X=from-file"}}
	pf := filepath.Join(t.TempDir(), "process.json")
	js, _ := json.Marshal(proc)
	os.WriteFile(pf, js, 0o644)
	r = b.must("exec", "--process", pf, b.id)
	if r.stdout != "from-file\n" {
		t.Errorf("exec --process printed:\n%s", r.stdout)
	}

	b.must("kill", "--all", b.id, "KILL")
	b.waitStatus(b.id, "stopped")
	b.must("delete", b.id)
	b.fail([]string{"exec", b.id, "true"}, `exec "`+b.id+`"`, "does not exist")
}

func TestUserSendsSignalsToContainer(t *testing.T) {
	script := `for s in HUP USR1 USR2 TERM; do trap "echo $s >>/mnt/sig" $s; done
echo ready >/mnt/ready; while :; do sleep 0.05; done`
	b := newBundle(t, "kill", "sh", "-c", script)
	out := b.hostDir("/mnt")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	waitFile(t, filepath.Join(out, "ready"))
	b.state(b.id)
	sig := filepath.Join(out, "sig")
	for _, tc := range []struct{ arg, want string }{
		{"USR1", "USR1\n"},
		{"SIGUSR2", "USR1\nUSR2\n"},
		{"1", "USR1\nUSR2\nHUP\n"},
		{"", "USR1\nUSR2\nHUP\nTERM\n"}, // the default is SIGTERM
	} {
		args := []string{"kill", b.id}
		if tc.arg != "" {
			args = append(args, tc.arg)
		}
		b.must(args...)
		for data := waitFile(t, sig); data != tc.want; data = waitFile(t, sig) {
			if !strings.HasPrefix(tc.want, data) {
				t.Fatalf("after kill %s the trap file holds %q, want %q", tc.arg, data, tc.want)
			}
		}
	}
	b.fail([]string{"kill", b.id, "SIGFOO"}, `kill "`+b.id+`"`, "SIGFOO")
	if r := b.ctr("kill", b.id, "NOPE"); r.code != 1 {
		t.Errorf("kill with an unknown signal exited %d, want 1", r.code)
	}

	// --all reaches every process of the cgroup, an exec'd one too.
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	b.mustDetached("exec", "-d", "--pid-file", pidFile, b.id, "sleep", "1000")
	data, _ := os.ReadFile(pidFile)
	epid, _ := strconv.Atoi(string(data))
	b.pids = append(b.pids, epid)
	b.must("kill", "--all", b.id, "SIGKILL")
	b.waitStatus(b.id, "stopped")
	b.fail([]string{"kill", b.id, "KILL"}, "not running")
	b.must("delete", b.id)
	b.fail([]string{"kill", b.id}, "does not exist")
}

func TestUserDeletesContainer(t *testing.T) {
	b := newBundle(t, "delete", "sleep", "1000")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	b.state(b.id)
	r := b.fail([]string{"delete", b.id}, `delete "`+b.id+`"`, "running", "--force")
	if r.code != 1 {
		t.Errorf("delete of a running container exited %d, want 1", r.code)
	}
	if st := b.state(b.id); st.Status != "running" {
		t.Errorf("a refused delete changed the container: %+v", st)
	}
	b.must("delete", "--force", b.id)
	b.fail([]string{"state", b.id}, "does not exist")
	b.wantNothingLeft()
	b.must("delete", "--force", "never-created") // runc: no error
	b.fail([]string{"delete", "never-created"}, `delete "never-created"`, "does not exist")
}

func TestUserListsContainers(t *testing.T) {
	b := newBundle(t, "list", "sleep", "1000")
	b.spec.Linux.CgroupsPath = "" // two containers: one cgroup each, by ID
	b.write()
	ids := []string{b.track(b.id + "-a"), b.track(b.id + "-b")}
	r := b.must("list")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 1 {
		t.Errorf("empty list printed:\n%s", r.stdout)
	}
	for _, id := range ids {
		b.mustDetached("create", "-b", b.dir, id)
	}
	r = b.must("list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Errorf("list header = %q", lines[0])
	}
	if len(lines) != 3 {
		t.Fatalf("list:\n%s", r.stdout)
	}
	for i, id := range ids {
		f := strings.Fields(lines[i+1])
		st := b.state(id)
		if len(f) != 6 || f[0] != id || f[1] != strconv.Itoa(st.Pid) || f[2] != "created" || f[3] != b.dir || f[5] != "root" {
			t.Errorf("list row %q, state %+v", lines[i+1], st)
		}
	}
	var reps []stateJSON
	r = b.must("list", "--format", "json")
	if err := json.Unmarshal([]byte(r.stdout), &reps); err != nil {
		t.Fatalf("list --format json: %v\n%s", err, r.stdout)
	}
	if len(reps) != 2 || reps[0].ID != ids[0] || reps[1].ID != ids[1] || reps[0].Status != "created" || reps[0].Pid == 0 {
		t.Errorf("list --format json = %+v", reps)
	}
	if r = b.must("list", "-q"); r.stdout != ids[0]+"\n"+ids[1]+"\n" {
		t.Errorf("list -q = %q", r.stdout)
	}
	for _, id := range ids {
		b.must("delete", id) // a created container can be deleted
	}
	// runc 1.1 encodes its nil slice: null, not [].
	if r = b.must("list", "--format", "json"); r.stdout != "null\n" {
		t.Errorf("list --format json of none = %q, want runc's \"null\\n\"", r.stdout)
	}
}

func TestUserRunsDefaultSpecAsIs(t *testing.T) {
	requireRoot(t)
	dir := filepath.Dir(newRootfs(t))
	mustCtrLite(t, "spec", "-b", dir)
	cfg := filepath.Join(dir, "config.json")
	data, _ := os.ReadFile(cfg)
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	s.Process.Args = []string{"sh", "-c", "echo ok; hostname"}
	data, _ = json.Marshal(&s)
	os.WriteFile(cfg, data, 0o644)
	wantFail(t, []string{"spec", "-b", dir}, "config.json", "exists")
	if now, _ := os.ReadFile(cfg); string(now) != string(data) {
		t.Error("spec overwrote config.json")
	}
	id := fmt.Sprintf("lc%d-defaultspec", os.Getpid())
	root := t.TempDir()
	// From inside the bundle, as a user types it: -b defaults to ".".
	cmd := exec.Command(binary, "--root", root, "run", id)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "ok\nctr-lite\n" {
		t.Errorf("run of the default spec: %v\n%s", err, out)
	}
	if ents, _ := os.ReadDir(root); len(ents) > 0 {
		t.Errorf("state left: %v", ents)
	}
	if d := ownCgroupDirs(id); len(d) > 0 {
		t.Errorf("cgroup left: %v", d)
		for _, x := range d {
			os.Remove(x)
		}
	}
}

// hook is a shell hook that saves its stdin in dir/kind and its mount
// namespace in dir/kind.mnt.
func hook(dir, kind string) specs.Hook {
	f := dir + "/" + kind
	return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "readlink /proc/self/ns/mnt >" + f + ".mnt; cat >" + f},
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}}
}

func TestUserRunsHooks(t *testing.T) {
	b := newBundle(t, "hooks", "sh", "-c", "echo program >/mnt/program")
	out := b.hostDir("/mnt")
	b.spec.Hooks = &specs.Hooks{
		CreateRuntime:   []specs.Hook{hook(out, "createRuntime")},
		CreateContainer: []specs.Hook{hook(out, "createContainer")},   // in the container's namespaces, before pivot_root
		StartContainer:  []specs.Hook{hook("/mnt", "startContainer")}, // in the container, after pivot_root
		Poststart:       []specs.Hook{hook(out, "poststart")},
		Poststop:        []specs.Hook{hook(out, "poststop")},
	}
	b.write()
	read := func(kind string) *specs.State {
		data, err := os.ReadFile(filepath.Join(out, kind))
		if err != nil {
			return nil
		}
		var s specs.State
		if err := json.Unmarshal(data, &s); err != nil {
			t.Errorf("%s hook got %q on stdin: %v", kind, data, err)
			return nil
		}
		return &s
	}
	want := func(kind string, status specs.ContainerState) *specs.State {
		s := read(kind)
		if s == nil {
			t.Errorf("%s hook did not run", kind)
			return &specs.State{}
		}
		if s.ID != b.id || s.Status != status || s.Bundle != b.dir {
			t.Errorf("%s hook got state %+v, want id %s status %s", kind, s, b.id, status)
		}
		return s
	}
	b.mustDetached("create", "-b", b.dir, b.id)
	pid := b.state(b.id).Pid
	if s := want("createRuntime", "creating"); s.Pid != pid {
		t.Errorf("createRuntime hook got pid %d, init is %d", s.Pid, pid)
	}
	want("createContainer", "creating")
	// createRuntime runs in the runtime's namespaces, createContainer in
	// the container's (config.md "Lifecycle").
	mnt := func(kind string) string {
		data, _ := os.ReadFile(filepath.Join(out, kind+".mnt"))
		return strings.TrimSpace(string(data))
	}
	if got, ours := mnt("createRuntime"), nsInode(t, "self", "mnt"); got != ours {
		t.Errorf("createRuntime hook ran in mount namespace %q, ours is %s", got, ours)
	}
	if got, theirs := mnt("createContainer"), nsInode(t, strconv.Itoa(pid), "mnt"); got != theirs {
		t.Errorf("createContainer hook ran in mount namespace %q, the container's is %s", got, theirs)
	}
	for _, k := range []string{"startContainer", "poststart", "program", "poststop"} {
		if _, err := os.Stat(filepath.Join(out, k)); err == nil {
			t.Errorf("%s ran before start", k)
		}
	}
	b.must("start", b.id)
	want("poststart", "running")
	waitFile(t, filepath.Join(out, "program"))
	if s := want("startContainer", "created"); s.Pid != 1 {
		t.Errorf("startContainer hook got pid %d, want 1 (it runs in the container)", s.Pid)
	}
	b.waitStatus(b.id, "stopped")
	if read("poststop") != nil {
		t.Error("poststop ran before delete")
	}
	b.must("delete", b.id)
	want("poststop", "stopped")
}

func TestUserGetsCreateRefusedByFailingHook(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		hook       specs.Hook
		want       string
	}{
		{"fails", "createRuntime", specs.Hook{Path: bb, Args: []string{"busybox", "sh", "-c", "echo no way; exit 5"}}, "no way"},
		{"timeout", "createRuntime", specs.Hook{Path: bb, Args: []string{"busybox", "sleep", "10"}, Timeout: intp(1)}, "timed out"},
		{"missing", "createRuntime", specs.Hook{Path: "/nonexistent/hook"}, "/nonexistent/hook"},
		{"in-container", "createContainer", specs.Hook{Path: bb, Args: []string{"busybox", "sh", "-c", "echo not here; exit 5"}}, "not here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "hookfail-"+tc.name, "true")
			b.spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{tc.hook}}
			if tc.kind == "createContainer" {
				b.spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{tc.hook}}
			}
			b.write()
			r := b.detached(nil, "create", "-b", b.dir, b.id)
			checkOneLineError(t, r, []string{`ctr-lite: create "` + b.id + `": ` + tc.kind + " hook", tc.want})
			if r.code != 1 {
				t.Errorf("create exited %d, want 1", r.code)
			}
			b.wantNothingLeft()
		})
	}
}

func intp(i int) *int { return &i }

func TestUserLimitsContainerResources(t *testing.T) {
	b := newBundle(t, "resources", "sleep", "1000")
	mem, pids := int64(64<<20), int64(20)
	b.spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
	b.spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	b.write()
	b.mustDetached("create", "-b", b.dir, b.id)
	p := b.spec.Linux.CgroupsPath
	if got := readTrim(t, cgFile(p, "memory", "memory.limit_in_bytes", "memory.max")); got != "67108864" {
		t.Errorf("memory limit in the cgroup = %s", got)
	}
	if got := readTrim(t, cgFile(p, "pids", "pids.max", "pids.max")); got != "20" {
		t.Errorf("pids limit in the cgroup = %s", got)
	}
	procs := readTrim(t, cgFile(p, "pids", "cgroup.procs", "cgroup.procs"))
	if pid := b.state(b.id).Pid; procs != strconv.Itoa(pid) {
		t.Errorf("cgroup.procs = %q, want the init %d", procs, pid)
	}
	b.must("delete", b.id)
}

func TestUserConfiguresContainerProcess(t *testing.T) {
	script := `hostname; echo "$FOO"; pwd; id -u; id -g; ulimit -n; ulimit -Hn
grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status
touch /newfile 2>&1 || true; mkdir /tmp/d 2>&1 || true; wc -c </etc/hostname
awk '$5 == "/" { print $6 }' /proc/self/mountinfo; awk '$5 == "/tmp" { print $(NF-2) }' /proc/self/mountinfo`
	b := newBundle(t, "process", "sh", "-c", script)
	s := b.spec
	s.Hostname = "box"
	s.Process.Env = append(s.Process.Env, "FOO=bar")
	s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/etc/hostname") // "ctr-lite\n" in the rootfs
	s.Process.Cwd = "/tmp"
	s.Process.User = specs.User{UID: 1000, GID: 1001}
	s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}}
	c := []string{"CAP_KILL"}
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: c, Effective: c, Permitted: c}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1777"}})
	one := uint(1)
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &one}}}
	b.write()
	r := b.must("run", "-b", b.dir, b.id)
	want := []string{"box", "bar", "/tmp", "1000", "1001", "100", "200",
		"CapEff:\t0000000000000000", "CapBnd:\t0000000000000020", "NoNewPrivs:\t1", "Seccomp:\t2",
		"touch: /newfile: Read-only file system", "mkdir: can't create directory '/tmp/d': Operation not permitted",
		"0", "ro,relatime", "tmpfs"}
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(got) != len(want) {
		t.Fatalf("container printed:\n%s\nwant:\n%s\nstderr:\n%s", r.stdout, strings.Join(want, "\n"), r.stderr)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %q, want %q", i+1, got[i], want[i])
		}
	}
}

func TestUserGetsContainerTerminalThroughConsoleSocket(t *testing.T) {
	b := newBundle(t, "tty", "sh", "-c", "tty; stty size")
	b.spec.Process.Terminal = true
	b.spec.Process.ConsoleSize = &specs.Box{Height: 24, Width: 100}
	b.write()
	sockPath := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sockPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type got struct {
		master *os.File
		err    error
	}
	ch := make(chan got, 1)
	go func() {
		conn, err := l.AcceptUnix()
		if err != nil {
			ch <- got{err: err}
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			ch <- got{err: err}
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			ch <- got{err: fmt.Errorf("no SCM_RIGHTS message: %v", err)}
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			ch <- got{err: fmt.Errorf("no fd: %v", err)}
			return
		}
		ch <- got{master: os.NewFile(uintptr(fds[0]), "pty-master")}
	}()
	b.mustDetached("create", "--console-socket", sockPath, "-b", b.dir, b.id)
	g := <-ch
	if g.err != nil {
		t.Fatal(g.err)
	}
	defer g.master.Close()
	b.state(b.id)
	b.must("start", b.id)
	// Read until EIO: every holder of the terminal's other end is gone.
	var out []byte
	buf := make([]byte, 1024)
	for {
		n, err := g.master.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	if got := strings.ReplaceAll(string(out), "\r", ""); got != "/dev/pts/0\n24 100\n" {
		t.Errorf("the container's terminal showed %q, want \"/dev/pts/0\\n24 100\\n\"", got)
	}
	b.waitStatus(b.id, "stopped")
	b.must("delete", b.id)
}

func TestUserPassesFdToContainer(t *testing.T) {
	b := newBundle(t, "fds", "sh", "-c", "echo through-fd-3 >&3; ls /proc/self/fd | wc -l")
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	cmd := exec.Command(binary, b.args("run", "--preserve-fds", "1", "-b", b.dir, b.id)...)
	cmd.ExtraFiles = []*os.File{wr}
	out, err := cmd.Output()
	wr.Close()
	if err != nil {
		t.Fatalf("run --preserve-fds 1: %v\n%s", err, out)
	}
	data := make([]byte, 100)
	n, _ := rd.Read(data)
	if string(data[:n]) != "through-fd-3\n" {
		t.Errorf("fd 3 carried %q", data[:n])
	}
	// 0, 1, 2, 3 and the one ls opens on /proc/self/fd: nothing else leaks.
	if strings.TrimSpace(string(out)) != "5" {
		t.Errorf("the container has %s fds open, want 5", out)
	}
}

func TestUserCreatesSameIDConcurrently(t *testing.T) {
	b := newBundle(t, "race", "sleep", "1000")
	const n = 5
	codes := make([]result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := exec.Command(binary, b.args("create", "-b", b.dir, b.id)...)
			devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			defer devnull.Close()
			errf, _ := os.CreateTemp(t.TempDir(), "stderr")
			defer errf.Close()
			cmd.Stdout, cmd.Stderr = devnull, errf
			cmd.Run()
			e, _ := os.ReadFile(errf.Name())
			codes[i] = result{code: cmd.ProcessState.ExitCode(), stderr: string(e)}
		}(i)
	}
	wg.Wait()
	won := 0
	for _, r := range codes {
		switch {
		case r.code == 0:
			won++
		case !strings.Contains(r.stderr, "already exists") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0:
			t.Errorf("a losing create said:\n%s", r)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent creates of one ID succeeded, want 1", won, n)
	}
	if st := b.state(b.id); st.Status != "created" {
		t.Errorf("winner's container: %+v", st)
	}
	b.must("delete", b.id)
}

func TestOrchestratorReadsRunErrorFromJSONLog(t *testing.T) {
	b := newBundle(t, "log", "true")
	b.spec.Root.Path = "no-such-rootfs"
	b.write()
	logFile := filepath.Join(t.TempDir(), "log.json")
	// --log is a global flag: before the command.
	r := b.ctr("--log", logFile, "--log-format", "json", "run", "-b", b.dir, b.id)
	if r.code != 1 {
		t.Errorf("run of a bundle without rootfs exited %d", r.code)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var last struct{ Level, Msg, Time string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("log line is not JSON: %v: %q", err, lines[len(lines)-1])
	}
	if last.Level != "error" || !strings.HasPrefix(last.Msg, `run "`+b.id+`": `) || !strings.Contains(last.Msg, "no-such-rootfs") {
		t.Errorf("log line = %+v", last)
	}
}

func TestUserGivesBadContainerInput(t *testing.T) {
	notSocket := filepath.Join(t.TempDir(), "plain-file")
	os.WriteFile(notSocket, nil, 0o644)
	neg, one := int64(-5), int64(1)
	for _, tc := range []struct {
		name  string
		edit  func(b *bundle) // changes the bundle; nil: unchanged
		flags []string
		want  []string
	}{
		{"malformed-json", func(b *bundle) {
			os.WriteFile(filepath.Join(b.dir, "config.json"), []byte("{\n\"ociVersion\": \"1.0.0\",\n\"process\": {"), 0o644)
		}, nil, []string{"config.json"}},
		{"oci-version-2", func(b *bundle) { b.spec.Version = "2.0.0"; b.write() }, nil, []string{"2.0.0"}},
		{"missing-rootfs", func(b *bundle) { os.RemoveAll(filepath.Join(b.dir, "rootfs")) }, nil, []string{"does not exist"}},
		{"rootfs-is-file", func(b *bundle) {
			os.RemoveAll(filepath.Join(b.dir, "rootfs"))
			os.WriteFile(filepath.Join(b.dir, "rootfs"), nil, 0o644)
		}, nil, []string{"not a directory"}},
		{"terminal-without-socket", func(b *bundle) { b.spec.Process.Terminal = true; b.write() }, nil, []string{"console-socket"}},
		{"console-socket-not-socket", func(b *bundle) { b.spec.Process.Terminal = true; b.write() },
			[]string{"--console-socket", notSocket}, []string{notSocket, "not a socket"}},
		{"negative-memory", func(b *bundle) {
			b.spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &neg}
			b.write()
		}, nil, []string{"memory"}},
		{"memory-1-byte", func(b *bundle) {
			b.spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &one}
			b.write()
		}, nil, []string{"memory"}},
		{"unknown-syscall", func(b *bundle) {
			b.spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"frobnicate"}, Action: specs.ActErrno}}}
			b.write()
		}, nil, []string{"frobnicate"}},
		{"no-args", func(b *bundle) { b.spec.Process.Args = nil; b.write() }, nil, []string{"process.args"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "bad-"+tc.name, "true")
			tc.edit(b)
			args := append(append([]string{"create", "-b", b.dir}, tc.flags...), b.id)
			r := b.detached(nil, args...)
			checkOneLineError(t, r, append([]string{`create "` + b.id + `": `}, tc.want...))
			b.wantNothingLeft()
		})
	}

	t.Run("bad-ids", func(t *testing.T) {
		b := newBundle(t, "bad-ids", "sleep", "1000")
		for _, id := range []string{"", "a/b", "..", "../escape", strings.Repeat("x", 300)} {
			r := b.detached(nil, "create", "-b", b.dir, id)
			checkOneLineError(t, r, []string{fmt.Sprintf("create %q: ", id), "ID"})
		}
		for _, op := range [][]string{{"state"}, {"start"}, {"kill"}, {"delete"}, {"exec"}} {
			args := append(op, "no-such-container")
			if op[0] == "exec" {
				args = append(args, "true")
			}
			r := b.ctr(args...)
			checkOneLineError(t, r, []string{op[0] + ` "no-such-container": container does not exist`})
		}
		b.wantNothingLeft()
	})

	t.Run("id-exists-and-start-twice", func(t *testing.T) {
		b := newBundle(t, "twice", "sleep", "1000")
		b.mustDetached("run", "-d", "-b", b.dir, b.id)
		pid := b.state(b.id).Pid
		r := b.detached(nil, "create", "-b", b.dir, b.id)
		checkOneLineError(t, r, []string{`create "` + b.id + `": `, "already exists"})
		checkOneLineError(t, b.ctr("start", b.id), []string{`start "` + b.id + `": `, "running"})
		if st := b.state(b.id); st.Status != "running" || st.Pid != pid {
			t.Errorf("failed create/start changed the container: %+v", st)
		}
		b.must("delete", "-f", b.id)
	})
}

// checkOneLineError wants a non-zero exit and one line "ctr-lite: ..."
// holding each of want.
func checkOneLineError(t *testing.T, r result, want []string) {
	t.Helper()
	msg := strings.TrimSpace(r.stderr)
	if r.code == 0 || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "ctr-lite: ") {
		t.Errorf("want a one-line error:\n%s", r)
		return
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

// runtime.md, lifecycle steps 9 and 12: a failing poststart or poststop
// hook is a warning; the remaining hooks run and the operation succeeds.
func TestUserGetsWarningFromFailingPoststartAndPoststopHooks(t *testing.T) {
	b := newBundle(t, "hookwarn", "sh", "-c", "echo program >/mnt/program")
	out := b.hostDir("/mnt")
	fail := specs.Hook{Path: bb, Args: []string{"busybox", "sh", "-c", "echo broken hook; exit 3"}}
	b.spec.Hooks = &specs.Hooks{
		Poststart: []specs.Hook{fail, hook(out, "poststart")},
		Poststop:  []specs.Hook{fail, hook(out, "poststop")},
	}
	b.write()
	b.mustDetached("create", "-b", b.dir, b.id)
	r := b.must("start", b.id)
	if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "broken hook") {
		t.Errorf("start did not warn about the failing poststart hook: %q", r.stderr)
	}
	waitFile(t, filepath.Join(out, "program"))
	if _, err := os.Stat(filepath.Join(out, "poststart")); err != nil {
		t.Errorf("the poststart hook after the failing one did not run: %v", err)
	}
	b.waitStatus(b.id, "stopped")
	r = b.must("delete", b.id)
	if !strings.Contains(r.stderr, "poststop hook #0") {
		t.Errorf("delete did not warn about the failing poststop hook: %q", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "poststop")); err != nil {
		t.Errorf("the poststop hook after the failing one did not run: %v", err)
	}
}

func TestUserSetsPersonalityAndIOPriority(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("LINUX32 needs a 64-bit kernel with a 32-bit ABI; checked on amd64 and arm64")
	}
	b := newBundle(t, "persona", "sh", "-c", "uname -m; cat /proc/self/stat >/dev/null; ionice -p $$")
	b.spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	b.spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}
	b.write()
	r := b.must("run", "-b", b.dir, b.id)
	want32 := map[string]string{"amd64": "i686", "arm64": "armv8l"}[runtime.GOARCH]
	lines := strings.Fields(r.stdout)
	if len(lines) < 2 || lines[0] != want32 || lines[1] != "idle" {
		t.Errorf("uname -m; ionice = %q, want %s and idle", r.stdout, want32)
	}
}

func TestUserGetsUnsupportedConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *specs.Spec)
		want string
	}{
		{"time offsets", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets: not supported"},
		{"scheduler", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther}
		}, "process.scheduler: not supported"},
		{"personality flags", func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"UNAME26"}}
		}, "linux.personality.flags"},
		{"io priority", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_FAST"}
		}, "IOPRIO_CLASS_FAST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "unsup", "true")
			tc.edit(b.spec)
			b.write()
			b.fail([]string{"create", "-b", b.dir, b.id}, tc.want)
		})
	}
}

// config-linux.md "cgroup namespace" and runc: the container's cgroup
// namespace is rooted at its own cgroup, and a "cgroup" mount shows it
// (on cgroup v1 and hybrid hosts one mount per hierarchy, as runc).
func TestUserSeesOwnCgroupInsideContainer(t *testing.T) {
	script := `cat /proc/self/cgroup; echo; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max`
	b := newBundle(t, "cgns", "sh", "-c", script)
	limit := int64(33)
	b.spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
	b.write()
	r := b.must("run", "-b", b.dir, b.id)
	parts := strings.SplitN(r.stdout, "\n\n", 2)
	if len(parts) != 2 {
		t.Fatalf("unexpected output:\n%s", r.stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(parts[0]), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("/proc/self/cgroup inside: %q, want every group to be the namespace's root", line)
		}
	}
	if got := strings.TrimSpace(parts[1]); got != "33" {
		t.Errorf("pids.max seen inside = %q, want 33 (the container's own group)", got)
	}
}

// runc gives each container a session keyring of its own ("_ses.ID")
// unless --no-new-keyring, and exec joins it: keys the caller holds stay
// out of reach. /proc/keys lists the keys its reader may view.
func TestUserGetsOwnSessionKeyring(t *testing.T) {
	b := newBundle(t, "keyring", "sleep", "100")
	b.spec.Linux.MaskedPaths = nil // /proc/keys is masked by default
	b.write()
	for _, tc := range []struct {
		flags []string
		want  bool
	}{{nil, true}, {[]string{"--no-new-keyring"}, false}} {
		id := b.track(b.id + "-" + strconv.FormatBool(tc.want))
		b.mustDetached(append(append([]string{"run", "-d", "-b", b.dir}, tc.flags...), id)...)
		r := b.must("exec", id, "cat", "/proc/keys")
		if got := strings.Contains(r.stdout, "_ses."+id); got != tc.want {
			t.Errorf("run %v: keyring _ses.%s seen inside = %v, want %v\n%s", tc.flags, id, got, tc.want, r.stdout)
		}
		b.must("delete", "--force", id)
	}
}

// runc refuses to exec into a paused container unless --ignore-paused;
// with it the exec goes ahead and its process runs once resumed.
func TestUserExecsIntoPausedContainer(t *testing.T) {
	b := newBundle(t, "execpaused", "sleep", "1000")
	out := b.hostDir("/mnt")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	b.state(b.id)
	b.must("pause", b.id)
	r := b.detached(nil, "exec", b.id, "touch", "/mnt/refused")
	checkOneLineError(t, r, []string{"paused", "--ignore-paused"})
	if r.code != 255 {
		t.Errorf("exec into a paused container exited %d, want 255", r.code)
	}
	done := make(chan result, 1)
	go func() {
		done <- b.detached(nil, "exec", "--ignore-paused", b.id, "sh", "-c", "echo ran >/mnt/ran")
	}()
	select {
	case r := <-done:
		t.Fatalf("exec --ignore-paused finished in a frozen container: %s", r)
	case <-time.After(500 * time.Millisecond):
	}
	b.must("resume", b.id)
	if r := <-done; r.code != 0 {
		t.Fatalf("exec --ignore-paused: %s", r)
	}
	if got := waitFile(t, filepath.Join(out, "ran")); got != "ran\n" {
		t.Errorf("exec --ignore-paused wrote %q", got)
	}
	if _, err := os.Stat(filepath.Join(out, "refused")); err == nil {
		t.Error("the refused exec ran")
	}
	b.must("delete", "-f", b.id)
}

// exec -g adds supplementary groups; --cgroup puts the process in an
// existing sub-cgroup of the container's, and nowhere outside it.
func TestUserExecsWithAdditionalGidsAndSubCgroup(t *testing.T) {
	b := newBundle(t, "execgids", "sleep", "1000")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	b.state(b.id)
	r := b.must("exec", "-g", "5", "--additional-gids", "2147483647", "--user", "1000:1000", b.id, "grep", "^Groups:", "/proc/self/status")
	if f := strings.Fields(r.stdout); len(f) != 3 || f[1] != "5" || f[2] != "2147483647" {
		t.Errorf("exec -g 5 -g 2147483647: %q", r.stdout)
	}

	cg := b.spec.Linux.CgroupsPath
	arg, subDir := "sub", filepath.Join("/sys/fs/cgroup", cg, "sub")
	if !cgroupV2() {
		arg, subDir = "memory:sub", filepath.Join("/sys/fs/cgroup/memory", cg, "sub")
	}
	if err := os.Mkdir(subDir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(subDir)
	r = b.must("exec", "--cgroup", arg, b.id, "cat", "/proc/self/cgroup")
	found := false
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && (f[1] == "memory" || (cgroupV2() && f[0] == "0")) {
			found = strings.HasSuffix(f[2], "/sub")
		}
	}
	if !found {
		t.Errorf("exec --cgroup %s: not in the sub-cgroup:\n%s", arg, r.stdout)
	}
	for _, bad := range []string{"../escape", "nosuch", "bogus:sub"} {
		r := b.detached(nil, "exec", "--cgroup", bad, b.id, "true")
		if r.code != 255 || !strings.Contains(r.stderr, "--cgroup") {
			t.Errorf("exec --cgroup %s: %s", bad, r)
		}
	}
	b.must("delete", "-f", b.id)
	os.Remove(subDir)
}

// A variable given again replaces the earlier one (runc's order: the
// config's env, then exec --env); the program never sees two values.
func TestUserOverridesEnvironment(t *testing.T) {
	b := newBundle(t, "envdedup", "sh", "-c", "env >/mnt/env; sleep 1000")
	out := b.hostDir("/mnt")
	b.spec.Process.Env = append(b.spec.Process.Env, "TERM=xterm", "A=1", "B=keep", "A=2")
	b.write()
	values := func(env, name string) []string {
		var vals []string
		for _, kv := range strings.Split(env, "\n") {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				vals = append(vals, v)
			}
		}
		return vals
	}
	want := func(what, env string, kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			if got := values(env, kv[i]); len(got) != 1 || got[0] != kv[i+1] {
				t.Errorf("%s: %s=%q, want exactly %q", what, kv[i], got, kv[i+1])
			}
		}
	}
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	b.state(b.id)
	want("the container's process", waitFile(t, filepath.Join(out, "env")), "A", "2", "TERM", "xterm", "B", "keep")
	r := b.must("exec", "--env", "TERM=dumb", "-e", "A=3", "-e", "C=x", "-e", "C=y", b.id, "env")
	want("exec --env", r.stdout, "TERM", "dumb", "A", "3", "B", "keep", "C", "y")
	proc := specs.Process{Args: []string{"sh", "-c", "env"}, Cwd: "/", Env: []string{"PATH=/bin", "X=1", "X=2"}}
	pf := filepath.Join(t.TempDir(), "process.json")
	js, _ := json.Marshal(proc)
	os.WriteFile(pf, js, 0o644)
	r = b.must("exec", "--process", pf, b.id)
	want("exec --process", r.stdout, "X", "2")
	if len(values(r.stdout, "TERM")) != 0 {
		t.Errorf("exec --process got the config's env:\n%s", r.stdout)
	}
	b.must("delete", "-f", b.id)
}

// In the foreground, run is the subreaper of the container's orphaned
// processes (runc's default) unless --no-subreaper.
func TestUserRunsWithoutSubreaper(t *testing.T) {
	script := "(sleep 100 & echo $! >/tmp/p); sleep 0.3; grep PPid /proc/$(cat /tmp/p)/status"
	for _, noSub := range []bool{false, true} {
		b := newBundle(t, fmt.Sprintf("subreaper%v", noSub), "sh", "-c", script)
		// The host's PID namespace: the orphan's parent is a host pid.
		var nss []specs.LinuxNamespace
		for _, ns := range b.spec.Linux.Namespaces {
			if ns.Type != specs.PIDNamespace {
				nss = append(nss, ns)
			}
		}
		b.spec.Linux.Namespaces = nss
		b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
		b.write()
		args := []string{"--root", b.root, "run", "-b", b.dir}
		if noSub {
			args = append(args, "--no-subreaper")
		}
		cmd := exec.Command(binary, append(args, b.id)...)
		var stdout strings.Builder
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			t.Fatalf("run (no-subreaper %v): %v\n%s", noSub, err, stdout.String())
		}
		ppid, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(stdout.String(), "PPid:")))
		if isRun := ppid == cmd.Process.Pid; isRun == noSub {
			t.Errorf("no-subreaper %v: the orphan's parent is %d, run was %d", noSub, ppid, cmd.Process.Pid)
		}
	}
}

// config-linux.md: a namespace type listed twice MUST be an error. The
// kind: what exec, update or the init would refuse later is refused by
// create, so no container exists that its own commands cannot handle.
func TestUserGetsConfigRefusedAtCreateNotLater(t *testing.T) {
	umask := uint32(0o1777)
	oom := 2000
	for _, tc := range []struct {
		name string
		edit func(s *specs.Spec)
		want []string
	}{
		{"cgroup-ns-twice", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		}, []string{`"cgroup" listed twice`}},
		{"net-ns-twice-by-path", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"})
		}, []string{`"network" listed twice`}},
		{"relative-ns-path", func(s *specs.Spec) {
			var nss []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.IPCNamespace {
					nss = append(nss, ns)
				}
			}
			s.Linux.Namespaces = append(nss, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: "proc/1/ns/ipc"})
		}, []string{"not absolute"}},
		{"env-without-equals", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "JUSTANAME") }, []string{"JUSTANAME", "'='"}},
		{"umask-too-big", func(s *specs.Spec) { s.Process.User.Umask = &umask }, []string{"umask"}},
		{"oom-score-adj", func(s *specs.Spec) { s.Process.OOMScoreAdj = &oom }, []string{"oom_score_adj"}},
		{"rlimit-twice", func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: 10, Soft: 10})
		}, []string{"RLIMIT_NOFILE"}},
		{"hostname-without-uts", func(s *specs.Spec) {
			var nss []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.UTSNamespace {
					nss = append(nss, ns)
				}
			}
			s.Linux.Namespaces, s.Hostname = nss, "box"
		}, []string{"hostname"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "later-"+tc.name, "sleep", "1000")
			tc.edit(b.spec)
			b.write()
			for _, args := range [][]string{{"create", "-b", b.dir, b.id}, {"run", "-d", "-b", b.dir, b.id}} {
				r := b.detached(nil, args...)
				checkOneLineError(t, r, append([]string{args[0] + ` "` + b.id + `": `}, tc.want...))
				if r.code != 1 {
					t.Errorf("%s: exit %d, want 1", args[0], r.code)
				}
				b.wantNothingLeft()
			}
		})
	}
}

// TestOrchestratorCreateWithTakenCgroupLeavesItAlone: a create whose
// cgroup already exists (another runtime's container with the same
// cgroupsPath, a group made by hand) is refused, and the group and the
// processes in it are left as they were: only a cgroup the failed create
// made itself is killed and removed.
func TestOrchestratorCreateWithTakenCgroupLeavesItAlone(t *testing.T) {
	b := newBundle(t, "takencg", "sleep", "1000")
	p := b.spec.Linux.CgroupsPath
	mustCtrLite(t, "cgroup", "create", p)
	other := exec.Command("sleep", "1000")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		other.Process.Kill()
		other.Wait()
		mustCtrLite(t, "cgroup", "delete", p)
	}()
	mustCtrLite(t, "cgroup", "add", p, strconv.Itoa(other.Process.Pid))
	for _, args := range [][]string{
		{"create", "-b", b.dir, b.id},
		{"run", "-d", "-b", b.dir, b.id},
	} {
		b.fail(args, "already exists")
		if err := other.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("%s killed the process already in the cgroup: %v", args[0], err)
		}
		if len(cgDirs(p)) == 0 {
			t.Fatalf("%s removed the cgroup %s it did not make", args[0], p)
		}
		if r := b.ctr("state", b.id); r.code == 0 {
			t.Errorf("%s left a container behind:\n%s", args[0], r)
		}
	}
}

// TestUserListsContainerBeingCreated: while create runs a createRuntime
// hook, runc 1.1 has no state.json yet: list leaves the container out in
// every format with "load container ID: container does not exist" on
// stderr; state, ps, events, stats and inspect say it does not exist, and
// so do kill, start, exec (exit 255), pause, resume and update at once,
// not after create. Once create ends, it is there, created.
func TestUserListsContainerBeingCreated(t *testing.T) {
	b := newBundle(t, "listcreating", "sleep", "1000")
	dir := t.TempDir()
	b.spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{blockingHook(t, dir)}}
	b.write()
	cmd := startCtr(t, b, nil, "create", "--bundle", b.dir, b.id)
	waitFile(t, filepath.Join(dir, "pids"))
	b.pids = append(b.pids, descendants(cmd.Process.Pid)...)
	warning := "ctr-lite: warning: load container " + b.id + ": container does not exist\n"
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{"list"}, "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"},
		{[]string{"list", "-q"}, ""},
		{[]string{"list", "--format", "json"}, "null\n"},
	} {
		if r := b.ctr(tc.args...); r.code != 0 || r.stdout != tc.out || r.stderr != warning {
			t.Errorf("%v during create: want exit 0, %q and runc's warning %q:\n%s", tc.args, tc.out, warning, r)
		}
	}
	id := b.id
	for _, args := range [][]string{{"state", id}, {"ps", id}, {"events", "--stats", id}, {"inspect", id}, {"kill", id, "KILL"},
		{"start", id}, {"exec", id, "true"}, {"pause", id}, {"resume", id}, {"update", "--pids-limit", "10", id}} {
		r := b.fail(args, args[0]+` "`+id+`": container does not exist`)
		if want := map[bool]int{true: 255, false: 1}[args[0] == "exec"]; r.code != want {
			t.Errorf("%v during create: exit %d, runc's is %d", args, r.code, want)
		}
	}
	if cmd.ProcessState != nil {
		t.Fatal("create ended while its hook blocks")
	}
	if r := b.must("stats", "--no-stream"); strings.Contains(r.stdout, b.id) {
		t.Errorf("stats lists the container being created:\n%s", r)
	}
	// Let the hook end (EOF on its FIFO): create finishes.
	w, err := os.OpenFile(filepath.Join(dir, "fifo"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("create: %v", err)
	}
	if r := b.must("list", "-q"); r.stdout != b.id+"\n" || r.stderr != "" {
		t.Errorf("list -q after create: %s", r)
	}
	if s := b.state(b.id); s.Status != "created" {
		t.Errorf("state after create: %+v", s)
	}
	b.must("delete", "--force", b.id)
	b.wantNothingLeft()
}
