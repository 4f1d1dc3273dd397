package rootfs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMkdirAllIn checks the openat2(2) mkdir -p against pathrs-lite's
// MkdirAllHandle (the fallback on kernels without openat2): the same
// paths are made or refused, the handle leads to the same directory, and
// nothing is ever made outside the root.
func TestMkdirAllIn(t *testing.T) {
	probe, err := unix.Openat2(unix.AT_FDCWD, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		t.Skipf("no openat2 on this kernel (%v): only the fallback would run", err)
	}
	unix.Close(probe)
	for _, tc := range []struct {
		name, path string
		ok         bool
		want       string // the handle's directory, relative to the root
	}{
		{"exists", "/a", true, "a"},
		{"root", "/", true, ""},
		{"missing last", "/a/new", true, "a/new"},
		{"missing several", "/a/b/c/d", true, "a/b/c/d"},
		{"relative", "a/rel", true, "a/rel"},
		{"trailing slash", "/a/ts/", true, "a/ts"},
		{"absolute link stays in root", "/abs/x", true, "a/x"},
		{"dotdot link stays in root", "/up/x", true, "out/x"},
		{"dotdot in existing part", "/a/../b", true, "b"},
		{"dotdot in missing part", "/new/../x", false, ""},
		{"dangling link", "/dangling/x", false, ""},
		{"dangling link last", "/dangling", false, ""},
		{"file in the way", "/file/x", false, ""},
		{"file at the end", "/file", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			for i, fallback := range []bool{false, true} {
				base := t.TempDir()
				root, outside := filepath.Join(base, "root"), filepath.Join(base, "out")
				for _, d := range []string{filepath.Join(root, "a"), filepath.Join(root, "out"), outside} {
					if err := os.MkdirAll(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				for link, target := range map[string]string{
					"abs":      "/a",
					"up":       strings.Repeat("../", 8) + "out",
					"dangling": "/nowhere/" + filepath.Base(outside),
				} {
					if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				rf, err := os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				s := &setup{root: rf, rootReal: root}
				noOpenat2.Store(fallback)
				f, err := s.mkdirAllIn(rf, tc.path)
				noOpenat2.Store(false)
				rf.Close()
				if (err == nil) != tc.ok {
					t.Fatalf("fallback=%v: mkdirAllIn(%q) error %v, want ok=%v", fallback, tc.path, err, tc.ok)
				}
				if err == nil {
					p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
					f.Close()
					if err != nil {
						t.Fatal(err)
					}
					got[i] = strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
					if got[i] != tc.want {
						t.Errorf("fallback=%v: mkdirAllIn(%q) is %s, want %s in the root", fallback, tc.path, p, tc.want)
					}
				}
				if ents, _ := os.ReadDir(outside); len(ents) > 0 {
					t.Errorf("fallback=%v: %q made %v outside the root", fallback, tc.path, ents)
				}
				if _, err := os.Lstat("/nowhere"); err == nil {
					t.Errorf("fallback=%v: %q made /nowhere on the host", fallback, tc.path)
				}
			}
			if got[0] != got[1] {
				t.Errorf("openat2 made %q, pathrs-lite %q", got[0], got[1])
			}
		})
	}
}

// TestMountRootAbove checks the statx walk up to a mount's root against
// the mount table: the same mount point for every directory.
func TestMountRootAbove(t *testing.T) {
	for _, dir := range []string{"/", "/proc", "/proc/sys/kernel", "/dev", "/sys/fs/cgroup", "/sys/kernel", "/etc", t.TempDir()} {
		var st unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st); err != nil {
			continue // not on this host
		}
		if st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
			t.Skip("no STATX_ATTR_MOUNT_ROOT (Linux < 5.8): only mountinfo is used")
		}
		got, err := mountRootAbove(dir, st)
		if err != nil {
			t.Fatalf("mountRootAbove(%s): %v", dir, err)
		}
		want, err := mountPointOf(st.Mnt_id)
		if err != nil {
			t.Fatalf("mountPointOf(%d): %v", st.Mnt_id, err)
		}
		if got != want {
			t.Errorf("mount root above %s: statx walk says %s, mountinfo %s", dir, got, want)
		}
	}
}
