package cgroups

import (
	"path"
	"strings"
	"testing"
)

// FuzzCgroupPath: linux.cgroupsPath, in cgroupfs form or systemd's
// slice:prefix:name. A path either fails in one line or names a group
// strictly below each hierarchy's root: "..", "//" or "." never reach
// the root itself, a sibling hierarchy or anything outside /sys/fs/cgroup.
// Nothing is created (New only computes paths).
func FuzzCgroupPath(f *testing.F) {
	for _, s := range []string{
		"/ctr-lite/web", "web", "/", "", ".", "..", "/../../etc", "a/../..", "//x//y/", "/a/./b/",
		"system.slice:docker:abc", "a-b.slice:p:n", "-:p:n", "x.slice:p:y.slice", ":p:n", "a:b", "a:b:c:d",
		"--.slice:p:n", "a-.slice:p:n", "system.slice:docker:../../x", "machine.slice:libpod:abc\n",
		"kubepods-besteffort-pod1.slice:cri-containerd:0123",
	} {
		f.Add(s)
	}
	ref, err := New("/ctr-lite-fuzz-ref", nil)
	if err != nil {
		f.Fatal(err)
	}
	roots := map[string]string{}
	for k, d := range ref.dirs {
		roots[k] = path.Dir(d) // the hierarchy's mount point
	}
	f.Fuzz(func(t *testing.T, p string) {
		oneLine := func(what string, err error) {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s(%q): error is not one line: %q", what, p, err)
			}
		}
		if sp, err := SystemdPath(p); err != nil {
			oneLine("SystemdPath", err)
		} else if !path.IsAbs(sp) || path.Clean(sp) != sp || sp == "/" || strings.Contains(sp, "/../") ||
			!(strings.HasSuffix(sp, ".scope") || strings.HasSuffix(sp, ".slice")) {
			t.Fatalf("SystemdPath(%q) = %q: not a clean absolute path to a unit", p, sp)
		}
		m, err := New(p, nil)
		if err != nil {
			oneLine("New", err)
			return
		}
		for k, d := range m.dirs {
			root, ok := roots[k]
			if !ok {
				t.Fatalf("New(%q): hierarchy %q the reference path has not", p, k)
			}
			if !strings.HasPrefix(d, root+"/") || path.Clean(d) != d {
				t.Fatalf("New(%q): %s directory %q is not strictly below %q", p, k, d, root)
			}
		}
	})
}
