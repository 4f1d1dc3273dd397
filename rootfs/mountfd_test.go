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
