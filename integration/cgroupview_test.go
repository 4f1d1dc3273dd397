package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A "cgroup" mount shows the container's own group in each hierarchy, one
// mount per hierarchy point (runc's view): in a cgroup namespace each
// root is "/" (mountinfo shows roots relative to the reader's namespace);
// without one, on cgroup v1 and hybrid hosts, each is the container's
// group, bound alone (no new mount of the whole hierarchy under it). On
// v1 the groups are bound from the host's mounts, not mounted anew.
func TestUserSeesOwnCgroupMountsWithAndWithoutCgroupNamespace(t *testing.T) {
	b := newBundle(t, "cgview", "cat", "/proc/self/mountinfo")
	cg := b.spec.Linux.CgroupsPath
	all := b.spec.Linux.Namespaces
	for _, cgns := range []bool{true, false} {
		if !cgns && cgroupV2() {
			continue // v2 without a cgroup namespace: a new mount, the whole hierarchy, as runc
		}
		var nss []specs.LinuxNamespace
		for _, n := range all {
			if n.Type != specs.CgroupNamespace || cgns {
				nss = append(nss, n)
			}
		}
		b.spec.Linux.Namespaces = nss
		b.write()
		id := b.track(b.id + map[bool]string{true: "-ns", false: "-nons"}[cgns])
		r := b.must("run", "--explain", "-b", b.dir, id)
		// The Go init explains it as one step and reads back the new
		// mounts; the raw init (no init process) as an open_tree(2) of
		// each own group, no new cgroup instance (fsopen).
		rawInit := strings.Contains(r.stderr, "# no init process")
		ownBinds := 0
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.HasPrefix(l, "explain[init]: open_tree(") && strings.Contains(l, cg) && strings.HasSuffix(l, "# the container's own group of this hierarchy") {
				ownBinds++
			}
		}
		if !cgroupV2() && !rawInit && (!strings.Contains(r.stderr, "<host hierarchy>/<own group>") || !strings.Contains(r.stderr, "; new mounts: none\n")) {
			t.Errorf("cgroupns=%v: --explain shows no bind of the own group in every hierarchy:\n%s", cgns, r.stderr)
		}
		if !cgroupV2() && rawInit && (ownBinds == 0 || strings.Contains(r.stderr, `explain[init]: fsopen("cgroup`)) {
			t.Errorf("cgroupns=%v: --explain shows no bind of the own group (%d), or a new cgroup mount:\n%s", cgns, ownBinds, r.stderr)
		}
		seen := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			f := strings.Fields(line)
			if len(f) < 10 || !strings.HasPrefix(f[4], "/sys/fs/cgroup") {
				continue
			}
			i := 6
			for i < len(f) && f[i] != "-" {
				i++
			}
			if i+1 >= len(f) || (f[i+1] != "cgroup" && f[i+1] != "cgroup2") {
				continue
			}
			seen[f[4]]++
			root := f[3]
			want := "/"
			if !cgns && f[i+1] == "cgroup" {
				want = cg
			}
			if root != want && !(!cgns && strings.HasSuffix(root, cg)) {
				t.Errorf("cgroupns=%v: %s shows group %s, want %s", cgns, f[4], root, want)
			}
		}
		if len(seen) == 0 {
			t.Errorf("cgroupns=%v: no cgroup mount inside:\n%s", cgns, r.stdout)
		}
		for mp, n := range seen {
			if n != 1 {
				t.Errorf("cgroupns=%v: %s mounted %d times, want once", cgns, mp, n)
			}
		}
		if !cgroupV2() && rawInit && ownBinds != len(seen) {
			t.Errorf("cgroupns=%v: %d own groups bound, %d cgroup mounts inside", cgns, ownBinds, len(seen))
		}
	}
}
