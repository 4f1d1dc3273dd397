package integration

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

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

// The init and an exec'd process join the container's cgroup themselves,
// as the first act of the forked child, before the program's first
// instruction: cat, the program itself, reads its own /proc/self/cgroup
// and is in the container's group in every hierarchy (no cgroup
// namespace here, so the paths are the host's). The runtime never writes
// cgroup.procs: on v1 the child writes "0" to each hierarchy's tasks file
// (no RCU grace period wait), on cgroup2 it is born in the group
// (clone3 CLONE_INTO_CGROUP).
func TestUserStartsProcessesThatJoinTheirCgroupThemselves(t *testing.T) {
	b := newBundle(t, "selfjoin", "sleep", "1000")
	var nss []specs.LinuxNamespace
	for _, n := range b.spec.Linux.Namespaces {
		if n.Type != specs.CgroupNamespace {
			nss = append(nss, n)
		}
	}
	b.spec.Linux.Namespaces = nss
	b.write()
	cg := b.spec.Linux.CgroupsPath
	var dirs []string
	wantJoin := func(what string, r result) {
		t.Helper()
		if strings.Contains(r.stderr, "cgroup.procs=") {
			t.Errorf("%s --explain: the runtime still writes cgroup.procs:\n%s", what, r.stderr)
		}
		for _, d := range dirs {
			want := "write(" + filepath.Join(d, "tasks") + `, "0")`
			if cgroupV2() || strings.HasPrefix(d, "/sys/fs/cgroup/unified/") {
				want = "clone3(CLONE_INTO_CGROUP, " + d + ","
			}
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s --explain shows no %s:\n%s", what, want, r.stderr)
			}
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) < len(dirs) {
			t.Errorf("%s: /proc/self/cgroup = %q, want a line per hierarchy of %v", what, r.stdout, dirs)
		}
		for _, l := range lines {
			if !strings.HasSuffix(l, ":"+cg) {
				t.Errorf("%s: the program's first read of /proc/self/cgroup has %q, want the container's group %s", what, l, cg)
			}
		}
	}
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	if dirs = cgDirs(cg); len(dirs) == 0 {
		t.Fatalf("no directory of cgroup %s", cg)
	}
	wantJoin("exec", b.must("exec", "--explain", b.id, "cat", "/proc/self/cgroup"))
	b.must("delete", "--force", b.id)

	// The init: cat is the container's program.
	b.spec.Process.Args = []string{"cat", "/proc/self/cgroup"}
	b.write()
	wantJoin("run", b.must("run", "--explain", "-b", b.dir, b.track(b.id+"-run")))
}
