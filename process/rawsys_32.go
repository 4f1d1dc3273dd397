//go:build linux && (386 || arm)

package process

import "golang.org/x/sys/unix"

// On 386 and arm setgroups and fchown take 16-bit ids (the *32 calls
// are the full-width ones), and fstatfs64 takes the struct's size.
const (
	sysSetgroups = unix.SYS_SETGROUPS32
	sysFchown    = unix.SYS_FCHOWN32
)

func fstatfsCall(fd, buf, size uintptr) (trap uintptr, args [6]uintptr) {
	return unix.SYS_FSTATFS64, [6]uintptr{fd, size, buf}
}
