package integration

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// On a cgroup v2 host the init and exec'd processes are born in the
// container's cgroup (clone3 CLONE_INTO_CGROUP): no cgroup.procs write.
func TestUserCreatesAndExecsIntoContainerBornInItsCgroup(t *testing.T) {
	if !cgroupV2() {
		t.Skip("clone3 CLONE_INTO_CGROUP is used on a pure cgroup v2 host only; this one is not")
	}
	b := newBundle(t, "clone3", "sleep", "1000")
	b.spec.Linux.CgroupsPath = "" // runc's default: ID under our own cgroup
	b.write()
	r := b.mustDetached("create", "--explain", "--bundle", b.dir, b.id)
	if !strings.Contains(r.stderr, "clone3(CLONE_INTO_CGROUP, ") {
		t.Errorf("create --explain shows no clone3(CLONE_INTO_CGROUP, ...):\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "cgroup.procs=") {
		t.Errorf("create --explain still writes cgroup.procs:\n%s", r.stderr)
	}
	dirs := ownCgroupDirs(b.id)
	if len(dirs) != 1 {
		t.Fatalf("cgroup directories of %s: %v, want one", b.id, dirs)
	}
	pid := strconv.Itoa(b.state(b.id).Pid)
	procs := strings.Fields(readTrim(t, filepath.Join(dirs[0], "cgroup.procs")))
	if len(procs) != 1 || procs[0] != pid {
		t.Errorf("%s/cgroup.procs = %v, want the init %s", dirs[0], procs, pid)
	}

	r = b.must("exec", "--explain", b.id, "cat", "/proc/self/cgroup")
	if !strings.Contains(r.stderr, "clone3(CLONE_INTO_CGROUP, "+dirs[0]) {
		t.Errorf("exec --explain shows no clone3(CLONE_INTO_CGROUP, %s):\n%s", dirs[0], r.stderr)
	}
	// In the container's cgroup namespace its own group is the root.
	if r.stdout != "0::/\n" {
		t.Errorf("exec'd process /proc/self/cgroup = %q, want \"0::/\\n\"", r.stdout)
	}
	b.must("delete", "--force", b.id)
}
