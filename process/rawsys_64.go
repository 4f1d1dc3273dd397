//go:build linux && !386 && !arm

package process

import "golang.org/x/sys/unix"

// System calls the raw program makes whose number or arguments differ
// on 32-bit ABIs (see rawsys_32.go).
const (
	sysSetgroups = unix.SYS_SETGROUPS
	sysFchown    = unix.SYS_FCHOWN
)

// fstatfsCall is fstatfs(2) of fd into buf (a unix.Statfs_t of size
// bytes).
func fstatfsCall(fd, buf, size uintptr) (trap uintptr, args [6]uintptr) {
	return unix.SYS_FSTATFS, [6]uintptr{fd, buf}
}
