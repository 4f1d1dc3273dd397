package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sharedHostDir makes a fresh host directory a shared mount of its own
// (mount --bind d d; mount --make-shared d), as kubelet does for a volume
// with mount propagation, and unmounts it and everything below at the end.
func sharedHostDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := unix.Mount(d, d, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s onto itself: %v", d, err)
	}
	t.Cleanup(func() {
		// Lazily, top first: the mounts below it go with it.
		for _, m := range mountsUnder(t, d) {
			unix.Unmount(m, unix.MNT_DETACH)
		}
		unix.Unmount(d, unix.MNT_DETACH)
		if left := mountsUnder(t, d); len(left) > 0 {
			t.Errorf("host dir still has mounts: %v", left)
		}
	})
	if err := unix.Mount("", d, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make %s shared: %v", d, err)
	}
	return d
}

// TestOrchestratorMountsVolumeWithPropagation: a host directory bound into
// a container the way the CRI asks for each mount propagation mode
// (containerd sets the mount option and rootfsPropagation). A mount made
// on the host after the container started shows inside for
// HostToContainer (rslave) and Bidirectional (rshared), not for private;
// a mount made inside shows on the host only for Bidirectional.
func TestOrchestratorMountsVolumeWithPropagation(t *testing.T) {
	for _, tc := range []struct {
		name, option, rootProp string
		hostToCtr, ctrToHost   bool
	}{
		{name: "private", option: "rprivate", hostToCtr: false, ctrToHost: false},
		{name: "host-to-container", option: "rslave", rootProp: "rslave", hostToCtr: true, ctrToHost: false},
		{name: "bidirectional", option: "rshared", rootProp: "rshared", hostToCtr: true, ctrToHost: true},
		// runc's default root propagation is rslave: a plain rslave
		// bind without rootfsPropagation still gets the host's mounts.
		{name: "rslave-default-root", option: "rslave", hostToCtr: true, ctrToHost: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sharedHostDir(t)
			b := newBundle(t, "prop-"+tc.name, "sleep", "1000")
			b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: d,
				Options: []string{"rbind", "rw", tc.option}})
			b.spec.Linux.RootfsPropagation = tc.rootProp
			b.write()
			b.mustDetached("run", "-d", "-b", b.dir, b.id)

			// Host to container: a tmpfs mounted on the host now.
			if err := os.Mkdir(filepath.Join(d, "fromhost"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount("tmpfs", filepath.Join(d, "fromhost"), "tmpfs", 0, ""); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "fromhost", "marker"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			r := b.ctr("exec", b.id, "test", "-e", "/vol/fromhost/marker")
			if got := r.code == 0; got != tc.hostToCtr {
				t.Errorf("%s: host mount seen inside = %v, want %v", tc.name, got, tc.hostToCtr)
			}

			// Container to host: a tmpfs mounted inside now.
			b.must("exec", "--cap", "CAP_SYS_ADMIN", b.id, "sh", "-c",
				"mkdir /vol/fromctr && mount -t tmpfs tmpfs /vol/fromctr && touch /vol/fromctr/marker")
			_, err := os.Stat(filepath.Join(d, "fromctr", "marker"))
			if got := err == nil; got != tc.ctrToHost {
				t.Errorf("%s: container mount seen on the host = %v, want %v", tc.name, got, tc.ctrToHost)
			}
			// Nothing but the shared volume's own mounts reach the host.
			for _, m := range mountsUnder(t, "/") {
				if strings.HasPrefix(m, b.dir) {
					t.Errorf("container mount %s reached the host", m)
				}
			}

			b.must("delete", "--force", b.id)
		})
	}
}
