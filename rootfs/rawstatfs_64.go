//go:build linux && !386 && !arm && !mips && !mipsle && !ppc

package rootfs

import (
	"golang.org/x/sys/unix"
)

// fstatfs(2) (fd, buf); 32-bit kernels have fstatfs64 (rawstatfs_32.go).
const sysFstatfs = unix.SYS_FSTATFS

// fstatfsArgs are fstatfs's arguments, the fd (Args[0]) from a register.
func fstatfsArgs(buf uintptr) []uintptr { return []uintptr{0, buf} }
