package rootfs

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// inPrivateMountNS runs f on a thread of its own in a new mount
// namespace (unshare(2) CLONE_NEWNS), with every mount private; the
// thread is never given back to the Go runtime, so it ends with f.
func inPrivateMountNS(t *testing.T, f func() error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare(CLONE_NEWNS) and mount(2)")
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the namespace
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			done <- err
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			done <- err
			return
		}
		done <- f()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Mount points with a space, tab or backslash are escaped in mountinfo
// (\040, \011, \134; proc(5)): they are found by their real names.
func TestMountinfoEscapedMountpoints(t *testing.T) {
	dir := t.TempDir()
	inPrivateMountNS(t, func() error {
		for _, name := range []string{"a b", "tab\there", `back\slash`} {
			mp := filepath.Join(dir, name)
			if err := os.Mkdir(mp, 0o755); err != nil {
				return err
			}
			if err := unix.Mount("tmpfs", mp, "tmpfs", 0, ""); err != nil {
				return err
			}
			var st unix.Statx_t
			if err := unix.Statx(unix.AT_FDCWD, mp, 0, unix.STATX_MNT_ID, &st); err != nil {
				return err
			}
			got, err := mountPointOf(st.Mnt_id)
			if err != nil {
				return err
			}
			if got != mp {
				t.Errorf("mountPointOf(%d) = %q, want %q", st.Mnt_id, got, mp)
			}
		}
		// A cgroup2 hierarchy alone under a fresh /sys/fs/cgroup, in a
		// directory with a space, as a host could mount it. The host's
		// hierarchies are detached (in this namespace only) first.
		if err := unix.Unmount("/sys/fs/cgroup", unix.MNT_DETACH); err != nil && err != unix.EINVAL {
			return err
		}
		if err := unix.Mount("tmpfs", "/sys/fs/cgroup", "tmpfs", 0, ""); err != nil {
			return err
		}
		if err := os.Mkdir("/sys/fs/cgroup/my unified", 0o755); err != nil {
			return err
		}
		if err := unix.Mount("cgroup2", "/sys/fs/cgroup/my unified", "cgroup2", 0, ""); err != nil {
			return err
		}
		v1, v2, err := cgroupLayout()
		if err != nil {
			return err
		}
		if v2 != "/sys/fs/cgroup/my unified" || len(v1) != 0 {
			t.Errorf("cgroupLayout() = %v, %q; want no v1 and cgroup2 at %q", v1, v2, "/sys/fs/cgroup/my unified")
		}
		return nil
	})
}
