package cgroups

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// A hierarchy mounted on a path with a space is listed under its real
// name (mountinfo escapes it as \040, proc(5)), and its
// cgroup.controllers is read from there.
func TestHierarchiesEscapedMountpoint(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare(CLONE_NEWNS) and mount(2)")
	}
	const mp = "/sys/fs/cgroup/my unified"
	done := make(chan error)
	var hs []Hierarchy
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with its mount namespace
		done <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return err
			}
			if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
				return err
			}
			if err := unix.Unmount("/sys/fs/cgroup", unix.MNT_DETACH); err != nil && err != unix.EINVAL {
				return err
			}
			if err := unix.Mount("tmpfs", "/sys/fs/cgroup", "tmpfs", 0, ""); err != nil {
				return err
			}
			if err := os.Mkdir(mp, 0o755); err != nil {
				return err
			}
			if err := unix.Mount("cgroup2", mp, "cgroup2", 0, ""); err != nil {
				return err
			}
			var err error
			hs, err = Hierarchies()
			return err
		}()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Version != 2 || hs[0].Mountpoint != mp {
		t.Errorf("Hierarchies() = %+v, want one cgroup2 hierarchy at %q", hs, mp)
	}
}
