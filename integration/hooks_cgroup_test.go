package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A createContainer hook, and whatever it forks, runs in the container's
// cgroup (as with runc), even when nothing else makes the init wait to be
// placed first: no cgroup namespace, no cgroup mount.
func TestUserHookRunsInContainerCgroup(t *testing.T) {
	b := newBundle(t, "hookcg", "true")
	out := filepath.Join(t.TempDir(), "cgroup")
	var nss []specs.LinuxNamespace
	for _, n := range b.spec.Linux.Namespaces {
		if n.Type != specs.CgroupNamespace {
			nss = append(nss, n)
		}
	}
	b.spec.Linux.Namespaces = nss
	var mounts []specs.Mount
	for _, m := range b.spec.Mounts {
		if m.Type != "cgroup" && m.Type != "cgroup2" {
			mounts = append(mounts, m)
		}
	}
	b.spec.Mounts = mounts
	b.spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: bb,
		Args: []string{"busybox", "sh", "-c", "cat /proc/self/cgroup > " + out}}}}
	b.write()
	b.mustDetached("create", "-b", b.dir, b.id)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Every hierarchy's line ends with the container's cgroup path.
	p := b.spec.Linux.CgroupsPath
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasSuffix(l, p) && !strings.Contains(l, "name=") {
			t.Errorf("the hook ran in %q, not in the container's cgroup %s:\n%s", l, p, data)
		}
	}
	b.must("delete", "--force", b.id)
}
