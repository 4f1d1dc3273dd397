package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountAttrs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uintptr
		attrs uint64
		ok    bool
	}{
		{"none", 0, 0, true},
		{"ro nosuid nodev noexec", unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
			unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC, true},
		{"atime", unix.MS_NOATIME | unix.MS_NODIRATIME, unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_NODIRATIME, true},
		{"strictatime", unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME, true},
		{"silent is ignored", unix.MS_SILENT | unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID, true},
		{"sync is a superblock flag", unix.MS_SYNCHRONOUS, 0, false},
		{"dirsync is a superblock flag", unix.MS_DIRSYNC | unix.MS_NODEV, unix.MOUNT_ATTR_NODEV, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs, ok := mountAttrs(tc.flags)
			if ok != tc.ok || (ok && attrs != tc.attrs) {
				t.Errorf("mountAttrs(%#x) = %#x, %v; want %#x, %v", tc.flags, attrs, ok, tc.attrs, tc.ok)
			}
		})
	}
}

func TestSetattrFor(t *testing.T) {
	for _, tc := range []struct {
		name        string
		want, clear uintptr
		set, clr    uint64
		ok          bool
	}{
		{"ro", unix.MS_RDONLY, 0, unix.MOUNT_ATTR_RDONLY, 0, true},
		{"nosuid nodev: ro cleared as a remount does", unix.MS_NOSUID | unix.MS_NODEV, 0,
			unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV, unix.MOUNT_ATTR_RDONLY, true},
		{"ro relatime: the atime mode replaced", unix.MS_RDONLY | unix.MS_RELATIME, 0,
			unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME, true},
		{"noatime", unix.MS_NOATIME, 0, unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_RDONLY, true},
		{"suid: nosuid cleared", 0, unix.MS_NOSUID, 0, unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_RDONLY, true},
		{"nosymfollow kept when asked", unix.MS_NOSYMFOLLOW, 0, unix.MOUNT_ATTR_NOSYMFOLLOW, unix.MOUNT_ATTR_RDONLY, true},
		{"two atime modes", unix.MS_NOATIME | unix.MS_STRICTATIME, 0, 0, 0, false},
		{"an atime mode cleared", 0, unix.MS_NOATIME, 0, 0, false},
		{"not per-mount", unix.MS_RDONLY | unix.MS_SYNCHRONOUS, 0, 0, 0, false},
		{"recursive", unix.MS_RDONLY | unix.MS_REC, 0, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := setattrFor(tc.want, tc.clear)
			if ok != tc.ok {
				t.Fatalf("setattrFor(%s, %s) ok=%v, want %v", FormatFlags(tc.want), FormatFlags(tc.clear), ok, tc.ok)
			}
			if ok && (a.Attr_set != tc.set || a.Attr_clr != tc.clr) {
				t.Errorf("setattrFor(%s, %s) = %s, want %s", FormatFlags(tc.want), FormatFlags(tc.clear),
					FormatAttr(a), FormatAttr(unix.MountAttr{Attr_set: tc.set, Attr_clr: tc.clr}))
			}
		})
	}
}
