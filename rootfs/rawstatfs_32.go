//go:build linux && (386 || arm || mips || mipsle || ppc)

package rootfs

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatfs64(2) (fd, size, buf): the struct unix.Statfs_t is, as
// unix.Fstatfs calls it on 32-bit kernels.
const sysFstatfs = unix.SYS_FSTATFS64

// fstatfsArgs are fstatfs64's arguments, the fd (Args[0]) from a register.
func fstatfsArgs(buf uintptr) []uintptr { return []uintptr{0, unsafe.Sizeof(unix.Statfs_t{}), buf} }
