package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// rootlessUser is a real non-root user made for one test (useradd), with
// a copy of the binary, a bundle and an XDG_RUNTIME_DIR it owns, all in
// a 0755 directory it can reach. Cleanup removes the user and the files.
type rootlessUser struct {
	t        *testing.T
	name     string
	uid, gid int
	dir      string // 0755, root's: holds the binary, bundle/, run/
	bin      string
	bundle   string // owned by the user
	xdg      string // XDG_RUNTIME_DIR: 0700, the user's
	// cgroupFD, if not 0, is a cgroup v2 directory the user's commands
	// start in (clone3 CLONE_INTO_CGROUP), as a login under systemd
	// starts in the user's delegated unit.
	cgroupFD int
}

// newRootlessUser makes user ctrl<pid><tag> with a busybox bundle.
func newRootlessUser(t *testing.T, tag string) *rootlessUser {
	t.Helper()
	requireRoot(t)
	name := fmt.Sprintf("ctrl%d%s", os.Getpid(), tag)
	dir, err := os.MkdirTemp("", "ctr-lite-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	u := &rootlessUser{t: t, name: name, dir: dir, bin: filepath.Join(dir, "ctr-lite"),
		bundle: filepath.Join(dir, "bundle"), xdg: filepath.Join(dir, "run")}
	t.Cleanup(u.cleanup)
	os.Chmod(dir, 0o755)
	if !u.canAddUser() {
		// The busybox-only VM has no useradd or setpriv --reuid:
		// a uid with no passwd entry (the kernel needs none),
		// become with ctr-lite's own `process --user`.
		u.uid = 40000 + os.Getpid()%20000*4 + int(tag[0]-'a')%4
		u.gid, u.name = u.uid, ""
	} else {
		if out, err := exec.Command("useradd", "-M", "-N", "-d", filepath.Join(dir, "home"), "-s", "/bin/sh", name).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v\n%s", name, err, out)
		}
		out, err := exec.Command("id", "-u", name).Output()
		if err != nil {
			t.Fatal(err)
		}
		u.uid, _ = strconv.Atoi(strings.TrimSpace(string(out)))
		out, err = exec.Command("id", "-g", name).Output()
		if err != nil {
			t.Fatal(err)
		}
		u.gid, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(u.bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("../testdata/mkrootfs.sh")
	if p := os.Getenv("CTR_LITE_TESTDATA"); p != "" {
		script = filepath.Join(p, "mkrootfs.sh")
	}
	if out, err := exec.Command("sh", script, filepath.Join(u.bundle, "rootfs")).CombinedOutput(); err != nil {
		t.Fatalf("mkrootfs: %v\n%s", err, out)
	}
	for _, d := range []string{u.bundle, u.xdg} {
		os.MkdirAll(d, 0o700)
		if err := os.Chown(d, u.uid, u.gid); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(u.bundle, 0o755)
	return u
}

// cmd is ctr-lite args run as the user (setpriv), in the bundle, with
// only the environment a login would give.
func (u *rootlessUser) cmd(args ...string) *exec.Cmd {
	env := []string{"PATH=/usr/bin:/bin", "USER=" + u.name, "HOME=" + filepath.Join(u.dir, "home"), "XDG_RUNTIME_DIR=" + u.xdg}
	if u.name == "" {
		pre := []string{"process", "--user", fmt.Sprintf("%d:%d", u.uid, u.gid), "--cwd", u.bundle}
		for _, e := range env {
			pre = append(pre, "--env", e)
		}
		c := exec.Command(binary, append(append(pre, "--", u.bin), args...)...)
		u.intoCgroup(c)
		return c
	}
	c := exec.Command("setpriv", append([]string{"--reuid", strconv.Itoa(u.uid), "--regid", strconv.Itoa(u.gid),
		"--init-groups", "--", u.bin}, args...)...)
	c.Dir = u.bundle
	c.Env = env
	u.intoCgroup(c)
	return c
}

func (u *rootlessUser) intoCgroup(c *exec.Cmd) {
	if u.cgroupFD != 0 {
		c.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: u.cgroupFD}
	}
}

// procsOf lists the processes whose real uid is uid (/proc/PID/status).
func procsOf(uid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" && f[1] == strconv.Itoa(uid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// canAddUser: useradd, userdel and util-linux's setpriv are here.
func (u *rootlessUser) canAddUser() bool {
	if os.Getenv("CTR_LITE_TEST_NO_USERADD") == "1" {
		return false // as in the VM, to try that path on a host
	}
	for _, tool := range []string{"useradd", "userdel", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			return false
		}
	}
	return exec.Command("setpriv", "--reuid", "0", "true").Run() == nil
}

// run runs ctr-lite as the user; stdout and stderr are files, so that a
// detached container holding them does not block the call.
func (u *rootlessUser) run(args ...string) result {
	u.t.Helper()
	c := u.cmd(args...)
	out, _ := os.CreateTemp(u.dir, "out")
	errf, _ := os.CreateTemp(u.dir, "err")
	defer os.Remove(out.Name())
	defer os.Remove(errf.Name())
	defer out.Close()
	defer errf.Close()
	c.Stdout, c.Stderr = out, errf
	err := c.Run()
	var r result
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		u.t.Fatalf("run %v as %s: %v", args, u.name, err)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	r.stdout, r.stderr = string(o), string(e)
	return r
}

func (u *rootlessUser) must(args ...string) result {
	u.t.Helper()
	r := u.run(args...)
	if r.code != 0 {
		u.t.Fatalf("as %s: ctr-lite %s: %s", u.name, strings.Join(args, " "), r)
	}
	return r
}

// spec runs `ctr-lite spec --rootless` as the user, then sets the args.
func (u *rootlessUser) spec(edit func(*specs.Spec)) {
	u.t.Helper()
	u.must("spec", "--rootless")
	path := filepath.Join(u.bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		u.t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		u.t.Fatal(err)
	}
	s.Process.Terminal = false
	edit(&s)
	data, _ = json.Marshal(&s)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

// leftovers: state under the user's root, the user's processes, cgroup
// directories named after ids.
func (u *rootlessUser) leftovers(ids ...string) []string {
	var left []string
	ents, _ := os.ReadDir(filepath.Join(u.xdg, "ctr-lite"))
	for _, e := range ents {
		left = append(left, "state "+e.Name())
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		pids := procsOf(u.uid)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			left = append(left, fmt.Sprint("processes ", pids))
			break
		}
	}
	for _, id := range ids {
		for _, d := range ownCgroupDirs(id) {
			left = append(left, "cgroup "+d)
		}
	}
	return left
}

func (u *rootlessUser) cleanup() {
	if pids := procsOf(u.uid); len(pids) > 0 {
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if u.uid != 0 && u.name != "" {
		if out, err := exec.Command("userdel", u.name).CombinedOutput(); err != nil {
			u.t.Errorf("userdel %s: %v\n%s", u.name, err, out)
		}
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if _, _, ok := u.subRange(f); ok && u.uid != 0 && u.name != "" {
			u.t.Errorf("%s still has a range for %s after userdel", f, u.name)
		}
	}
	os.RemoveAll(u.dir)
}

// A user who is not root writes a rootless spec and runs it with no
// flags, as with runc: state goes under $XDG_RUNTIME_DIR/ctr-lite (0700,
// sticky), root inside is the user outside, what needs a cgroup the user
// may not make is skipped with a warning, and nothing is left.
func TestRootlessUserRunsSpecRootlessWithNoFlags(t *testing.T) {
	u := newRootlessUser(t, "a")
	id := fmt.Sprintf("rl%d", os.Getpid())
	u.spec(func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "cat /proc/self/uid_map; id -u; " +
			"grep ' /sys ' /proc/self/mounts; mknod /tmp/null c 1 3 || echo mknod refused"}
	})
	r := u.must("run", id)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 4 {
		t.Fatalf("output: %s", r)
	}
	if f := strings.Fields(lines[0]); len(f) != 3 || f[0] != "0" || f[1] != strconv.Itoa(u.uid) || f[2] != "1" {
		t.Errorf("uid_map %q, want 0 %d 1", lines[0], u.uid)
	}
	if lines[1] != "0" {
		t.Errorf("id -u inside = %q, want 0", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) < 4 || !strings.HasPrefix(f[3], "ro") {
		t.Errorf("/sys not read-only: %q", lines[2])
	}
	if lines[3] != "mknod refused" {
		t.Errorf("root inside made a device node: %q", lines[3])
	}
	if cg := filepath.Join("/sys/fs/cgroup", "pids"); exists(cg) && !strings.Contains(r.stderr, "rootless") {
		t.Errorf("no warning that the cgroup was skipped: %q", r.stderr)
	}
	root := filepath.Join(u.xdg, "ctr-lite")
	st, err := os.Stat(root)
	if err != nil {
		t.Fatalf("default --root: %v", err)
	}
	if st.Mode()&os.ModePerm != 0o700 || st.Mode()&os.ModeSticky == 0 || int(st.Sys().(*syscall.Stat_t).Uid) != u.uid {
		t.Errorf("%s: mode %v uid %d, want drwx-----T of uid %d (runc)", root, st.Mode(), st.Sys().(*syscall.Stat_t).Uid, u.uid)
	}
	if left := u.leftovers(id); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

// The user runs a container detached and manages it: list shows it (and
// only theirs), exec runs in it, kill and delete end it. Another user can
// neither read that --root nor signal the container; root's own list
// does not show it.
func TestRootlessUserManagesOwnContainerOthersCannot(t *testing.T) {
	u := newRootlessUser(t, "b")
	other := newRootlessUser(t, "c")
	id := fmt.Sprintf("rl%d", os.Getpid())
	u.spec(func(s *specs.Spec) { s.Process.Args = []string{"sleep", "1000"} })
	u.must("run", "-d", id)
	if r := u.must("list", "-q"); strings.TrimSpace(r.stdout) != id {
		t.Errorf("list -q = %q, want %q", r.stdout, id)
	}
	if r := other.must("list", "-q"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("another user's list shows %q", r.stdout)
	}
	if r := u.must("exec", id, "id", "-u"); strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("exec id -u = %q", r.stdout)
	}
	root := filepath.Join(u.xdg, "ctr-lite")
	if r := other.run("--root", root, "list"); r.code == 0 || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("another user listed %s: %s", root, r)
	}
	if r := other.run("--root", root, "kill", id, "KILL"); r.code == 0 {
		t.Errorf("another user killed the container: %s", r)
	}
	if r := mustCtrLite(t, "list", "-q"); strings.Contains(r.stdout, id) {
		t.Errorf("root's default list shows the user's container: %q", r.stdout)
	}
	st := u.must("state", id)
	var s struct {
		Status string
		Pid    int
	}
	json.Unmarshal([]byte(st.stdout), &s)
	if s.Status != "running" || !alive(s.Pid) {
		t.Fatalf("after another user's kill: %s", st.stdout)
	}
	u.must("kill", id, "KILL")
	for deadline := time.Now().Add(5 * time.Second); alive(s.Pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	u.must("delete", id)
	if r := u.must("list", "-q"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("list after delete = %q", r.stdout)
	}
	if left := u.leftovers(id); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

// A rootless user who asks for a memory limit with no cgroup it may make
// gets runc's error, not a container without the limit, and nothing left.
// The error is one short line naming the one directory that could not be
// made and why, not every hierarchy's.
func TestRootlessUserAsksForLimitsWithoutDelegation(t *testing.T) {
	msg := func(r result) string { return strings.TrimSpace(r.stderr) }
	u := newRootlessUser(t, "d")
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err != nil && !exists("/sys/fs/cgroup/cgroup.controllers") {
		t.Skip("no memory cgroup")
	}
	id := fmt.Sprintf("rl%d", os.Getpid())
	lim := int64(64 << 20)
	u.spec(func(s *specs.Spec) {
		s.Process.Args = []string{"true"}
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &lim}}
	})
	r := u.run("run", id)
	if r.code == 0 || !strings.Contains(r.stderr, "cannot set memory limit: container could not join or create cgroup") {
		t.Errorf("run with a memory limit: %s", r)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("more than the one error line: %q", r.stderr)
	}
	memDir := "/sys/fs/cgroup/"
	if exists("/sys/fs/cgroup/memory") {
		memDir += "memory/"
	}
	// v1: the memory hierarchy's mkdir names the cause; cgroup2 (the
	// VM): the group's directory, whose limit could not be written.
	cause := strings.Contains(msg(r), ": mkdir "+memDir) && strings.HasSuffix(msg(r), "/"+id+": permission denied")
	if !exists("/sys/fs/cgroup/memory") {
		cause = strings.Contains(msg(r), memDir+id+": ")
	}
	if msg := msg(r); strings.Count(msg, "/sys/fs/cgroup/") != 1 || len(msg) > 250 || !cause {
		t.Errorf("want one line naming the memory cgroup directory and the cause (mkdir %s...%s: permission denied) once, got %d characters: %q",
			memDir, id, len(msg), msg)
	}
	if left := u.leftovers(id); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// subRange is the user's first range in /etc/subuid or /etc/subgid.
func (u *rootlessUser) subRange(file string) (start, count uint32, ok bool) {
	data, _ := os.ReadFile(file)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 3 && (f[0] == u.name || f[0] == strconv.Itoa(u.uid)) {
			s, err1 := strconv.ParseUint(f[1], 10, 32)
			c, err2 := strconv.ParseUint(f[2], 10, 32)
			if err1 == nil && err2 == nil {
				return uint32(s), uint32(c), true
			}
		}
	}
	return 0, 0, false
}

// A user with a subordinate range in /etc/subuid and /etc/subgid maps it
// into the container beside their own id: ctr-lite has newuidmap and
// newgidmap (setuid, from shadow's uidmap) write the maps, and root
// inside can then chown to the uids of that range.
func TestRootlessUserMapsSubordinateRange(t *testing.T) {
	u := newRootlessUser(t, "e")
	if u.name == "" {
		t.Skip("needs useradd and usermod for an /etc/subuid range: not in this system (the busybox-only VM); the host runs it")
	}
	for _, tool := range []string{"newuidmap", "newgidmap", "usermod"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian's uidmap, passwd): not in this system", tool)
		}
	}
	if _, _, ok := u.subRange("/etc/subuid"); !ok {
		if out, err := exec.Command("usermod", "--add-subuids", "400000-465535", "--add-subgids", "400000-465535", u.name).CombinedOutput(); err != nil {
			t.Fatalf("usermod: %v\n%s", err, out)
		}
	}
	us, uc, ok1 := u.subRange("/etc/subuid")
	gs, gc, ok2 := u.subRange("/etc/subgid")
	if !ok1 || !ok2 {
		t.Fatal("no /etc/subuid or /etc/subgid range after usermod")
	}
	id := fmt.Sprintf("rl%d", os.Getpid())
	u.spec(func(s *specs.Spec) {
		s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: us, Size: uc})
		s.Linux.GIDMappings = append(s.Linux.GIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: gs, Size: gc})
		c := s.Process.Capabilities
		c.Bounding, c.Effective, c.Permitted = append(c.Bounding, "CAP_CHOWN"), append(c.Effective, "CAP_CHOWN"), append(c.Permitted, "CAP_CHOWN")
		s.Process.Args = []string{"sh", "-c", "cat /proc/self/uid_map | wc -l; touch /dev/shm/f && chown 1000:1000 /dev/shm/f && stat -c '%u %g' /dev/shm/f"}
	})
	r := u.must("run", id)
	if got, want := strings.Fields(r.stdout), []string{"2", "1000", "1000"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("uid_map lines, chown'ed owner = %q, want %q\n%s", got, want, r)
	}
	if left := u.leftovers(id); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

// A rootless user's update of a container that has no cgroup fails with
// runc's words instead of claiming the host has no such hierarchy.
func TestRootlessUserUpdatesContainerWithoutCgroup(t *testing.T) {
	u := newRootlessUser(t, "f")
	id := fmt.Sprintf("rl%d", os.Getpid())
	u.spec(func(s *specs.Spec) { s.Process.Args = []string{"sleep", "1000"} })
	r := u.must("run", "-d", id)
	if !strings.Contains(r.stderr, "rootless") {
		t.Skipf("the user could make the container's cgroup here (delegated): %s", r.stderr)
	}
	if r := u.run("update", "--memory", "100M", id); r.code == 0 || !strings.Contains(r.stderr, "cannot set memory limit: container could not join or create cgroup") {
		t.Errorf("update --memory: %s", r)
	}
	u.must("delete", "--force", id)
	if left := u.leftovers(id); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

// delegate makes a cgroup v2 subtree for the user as systemd's Delegate=
// does for user@UID.service: a group D under the root with memory and
// pids enabled for its children, D and its cgroup.procs,
// cgroup.subtree_control and cgroup.threads chowned to the user, and a
// leaf D/login (the user's) in which the user's commands start. A
// relative cgroupsPath then resolves to D/ID: runc's fs2 (and ours)
// takes the parent of the caller's own cgroup (/proc/self/cgroup) as
// the parent of a relative path. Cleanup kills what is left in D and
// removes it.
func (u *rootlessUser) delegate(t *testing.T) string {
	t.Helper()
	ctrls, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "pids"} {
		if !slices.Contains(strings.Fields(string(ctrls)), c) {
			t.Skipf("the cgroup root does not enable %s for its children (%q)", c, ctrls)
		}
	}
	d := fmt.Sprintf("/sys/fs/cgroup/ctr-lite-deleg-%d", os.Getpid())
	login := filepath.Join(d, "login")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(d, "cgroup.kill"), []byte("1"), 0)
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				if e.IsDir() {
					os.Remove(filepath.Join(d, e.Name()))
				}
			}
			if os.Remove(d) == nil || time.Now().After(deadline) {
				break
			}
		}
		if exists(d) {
			t.Errorf("delegated cgroup %s left behind", d)
		}
	})
	if err := os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory +pids"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(login, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{d, login} {
		for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"} {
			if err := os.Chown(filepath.Join(p, f), u.uid, u.gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	fd, err := syscall.Open(login, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	u.cgroupFD = fd
	return d
}

// A user with a delegated cgroup v2 subtree (pure v2, as systemd's
// Delegate= gives one) runs a rootless container with memory and pids
// limits, as with runc: the container's group is made in the subtree
// with the limits, `update` changes them, `pause` and `resume` freeze and
// thaw it, `events --stats` reports its memory and pids, `ps` lists its
// process, and delete removes the group. On a v1 or hybrid host (this
// one) there is no such delegation: the container runs without a
// cgroup, with runc's warning, and what needs one fails with runc's
// words (pause, ps, update), while `events --stats` gives runc's zeros.
func TestRootlessUserLimitsInDelegatedCgroup(t *testing.T) {
	u := newRootlessUser(t, "g")
	id := fmt.Sprintf("rl%d", os.Getpid())
	if !cgroupV2() {
		u.spec(func(s *specs.Spec) { s.Process.Args = []string{"sleep", "1000"} })
		r := u.must("run", "-d", id)
		if !strings.Contains(r.stderr, "rootless") {
			t.Skipf("the user could make the container's cgroup here: %s", r.stderr)
		}
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"pause", id}, "cannot toggle freezer: cgroups not configured for container"},
			{[]string{"ps", id}, "unable to get all container pids"},
			{[]string{"update", "--pids-limit", "10", id}, "cannot set pids limit: container could not join or create cgroup"},
		} {
			if r := u.run(c.args...); r.code == 0 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%s: %s\nwant an error with %q", strings.Join(c.args, " "), r, c.want)
			}
		}
		var ev struct {
			Type string
			Data struct {
				Memory struct{ Usage struct{ Usage uint64 } }
			}
		}
		r = u.must("events", "--stats", id)
		if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil || ev.Type != "stats" || ev.Data.Memory.Usage.Usage != 0 {
			t.Errorf("events --stats without a cgroup: %v\n%s", err, r)
		}
		u.must("delete", "--force", id)
		if left := u.leftovers(id); len(left) > 0 {
			t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
		}
		return
	}
	d := u.delegate(t)
	mem, pids := int64(64<<20), int64(32)
	u.spec(func(s *specs.Spec) {
		s.Process.Args = []string{"sleep", "1000"}
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem}, Pids: &specs.LinuxPids{Limit: &pids}}
	})
	r := u.must("run", "-d", id)
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("run in a delegated subtree warned: %s", r.stderr)
	}
	cg := filepath.Join(d, id)
	read := func(f string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(cg, f))
		if err != nil {
			t.Fatalf("the container's cgroup: %v", err)
		}
		return strings.TrimSpace(string(data))
	}
	st := u.must("state", id)
	var s struct {
		Pid    int
		Status string
	}
	json.Unmarshal([]byte(st.stdout), &s)
	if procs := strings.Fields(read("cgroup.procs")); !slices.Contains(procs, strconv.Itoa(s.Pid)) {
		t.Errorf("%s/cgroup.procs = %v, want the init %d", cg, procs, s.Pid)
	}
	if got := read("memory.max") + " " + read("pids.max"); got != "67108864 32" {
		t.Errorf("memory.max pids.max = %s, want 67108864 32", got)
	}
	u.must("update", "--memory", "100M", "--pids-limit", "50", id)
	if got := read("memory.max") + " " + read("pids.max"); got != "104857600 50" {
		t.Errorf("after update: memory.max pids.max = %s, want 104857600 50", got)
	}
	u.must("pause", id)
	if st := u.must("state", id); !strings.Contains(st.stdout, `"paused"`) || read("cgroup.freeze") != "1" {
		t.Errorf("after pause: cgroup.freeze %s, state %s", read("cgroup.freeze"), st.stdout)
	}
	u.must("resume", id)
	if st := u.must("state", id); !strings.Contains(st.stdout, `"running"`) || read("cgroup.freeze") != "0" {
		t.Errorf("after resume: cgroup.freeze %s, state %s", read("cgroup.freeze"), st.stdout)
	}
	var ev struct {
		Type string
		Data struct {
			Memory struct{ Usage struct{ Usage, Limit uint64 } }
			Pids   struct{ Current, Limit uint64 }
		}
	}
	r = u.must("events", "--stats", id)
	if err := json.Unmarshal([]byte(r.stdout), &ev); err != nil || ev.Type != "stats" ||
		ev.Data.Memory.Usage.Usage == 0 || ev.Data.Pids.Current < 1 || ev.Data.Pids.Limit != 50 {
		t.Errorf("events --stats: %v: %+v\n%s", err, ev, r)
	}
	if r := u.must("ps", id); !strings.Contains(r.stdout, strconv.Itoa(s.Pid)) {
		t.Errorf("ps does not list the init %d:\n%s", s.Pid, r.stdout)
	}
	u.must("delete", "--force", id)
	if exists(cg) {
		t.Errorf("delete left %s", cg)
	}
	if left := u.leftovers(id); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

// podman as the user, rootless (its own user namespace with the user's
// subordinate range, vfs storage in the user's home, no network), with
// ctr-lite as its runtime: podman runs the runtime as root in that user
// namespace, where ctr-lite takes runc's rootless cgroup manager (no
// cgroup where it may not make one) and its state under
// $XDG_RUNTIME_DIR. An image imported from a busybox tarball is run with
// --rm, then detached with exec, stop and rm; nothing is left.
func TestRootlessUserRunsPodmanWithCtrLite(t *testing.T) {
	for _, tool := range []string{"podman", "conmon", "newuidmap", "newgidmap", "usermod", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: not in this system", tool)
		}
	}
	u := newRootlessUser(t, "h")
	if u.name == "" {
		t.Skip("needs useradd for an /etc/subuid range: not in this system")
	}
	if _, _, ok := u.subRange("/etc/subuid"); !ok {
		if out, err := exec.Command("usermod", "--add-subuids", "500000-565535", "--add-subgids", "500000-565535", u.name).CombinedOutput(); err != nil {
			t.Fatalf("usermod: %v\n%s", err, out)
		}
	}
	home := filepath.Join(u.dir, "home")
	conf := filepath.Join(home, ".config", "containers")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"storage.conf": "[storage]\ndriver = \"vfs\"\n",
		"containers.conf": fmt.Sprintf("[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nruntime = \"ctr-lite\"\n"+
			"[engine.runtimes]\nctr-lite = [%q]\n", u.bin),
		"registries.conf": "unqualified-search-registries = []\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tarball := filepath.Join(u.dir, "busybox.tar")
	if out, err := exec.Command("tar", "-C", filepath.Join(u.bundle, "rootfs"), "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	os.Chmod(tarball, 0o644)
	if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", u.uid, u.gid), home).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v\n%s", err, out)
	}
	podman := func(args ...string) result {
		t.Helper()
		c := exec.Command("setpriv", append([]string{"--reuid", strconv.Itoa(u.uid), "--regid", strconv.Itoa(u.gid),
			"--init-groups", "--", "podman"}, args...)...)
		c.Dir = home
		c.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "USER=" + u.name, "HOME=" + home, "XDG_RUNTIME_DIR=" + u.xdg}
		out, _ := os.CreateTemp(u.dir, "out")
		errf, _ := os.CreateTemp(u.dir, "err")
		defer os.Remove(out.Name())
		defer os.Remove(errf.Name())
		c.Stdout, c.Stderr = out, errf
		err := c.Run()
		var r result
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("podman %v: %v", args, err)
		}
		o, _ := os.ReadFile(out.Name())
		e, _ := os.ReadFile(errf.Name())
		r.stdout, r.stderr = string(o), string(e)
		if r.code != 0 {
			t.Fatalf("podman %s: %s", strings.Join(args, " "), r)
		}
		return r
	}
	podman("import", tarball, "localhost/ctr-lite-rootless:latest")
	r := podman("run", "--rm", "--network", "none", "localhost/ctr-lite-rootless", "sh", "-c", "id -u; wc -l < /proc/self/uid_map")
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "0 2" {
		t.Errorf("run --rm: id -u, uid_map lines = %q, want 0 2 (the user and their range)\n%s", got, r)
	}
	name := fmt.Sprintf("rl%d", os.Getpid())
	podman("run", "-d", "--name", name, "--network", "none", "localhost/ctr-lite-rootless", "sleep", "1000")
	if r := podman("exec", name, "id", "-u"); strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("exec id -u = %q", r.stdout)
	}
	if r := u.must("list", "-q"); strings.TrimSpace(r.stdout) == "" {
		t.Errorf("ctr-lite's list as the user (default root $XDG_RUNTIME_DIR/ctr-lite) does not show podman's container")
	}
	podman("stop", "-t", "1", name)
	podman("rm", name)
	podman("rmi", "localhost/ctr-lite-rootless")
	podman("system", "migrate") // stops the user's pause process
	if r := u.must("list", "-q"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("list after podman rm = %q", r.stdout)
	}
	if left := u.leftovers(); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}
