package rootfs

import (
	"errors"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawKernelWhy says why this kernel cannot run RawSteps' ops ("" if it
// can): they need the mount API (fsopen, fsmount, move_mount,
// open_tree: Linux 5.2), openat2 (5.6) and mount_setattr (5.12). Each is
// probed once; only ENOSYS means missing (EPERM, EBADF: it is there).
var rawKernelWhy = sync.OnceValue(func() string {
	if fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC); err == nil {
		unix.Close(fd)
	} else if errors.Is(err, unix.ENOSYS) {
		return "this kernel has no fsopen(2) (Linux 5.2): mounts are made by the Go init"
	}
	if fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC}); err == nil {
		unix.Close(fd)
	} else if errors.Is(err, unix.ENOSYS) {
		return "this kernel has no openat2(2) (Linux 5.6): paths in the rootfs are resolved by the Go init"
	}
	var attr unix.MountAttr
	_, _, e := unix.Syscall6(unix.SYS_MOUNT_SETATTR, ^uintptr(0), uintptr(unsafe.Pointer(&emptyPath[0])),
		unix.AT_EMPTY_PATH, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if e == unix.ENOSYS {
		return "this kernel has no mount_setattr(2) (Linux 5.12): mount flags are changed by the Go init"
	}
	return ""
})

var emptyPath = [1]byte{}
