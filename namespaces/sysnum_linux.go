//go:build linux && !386 && !arm

package namespaces

import "golang.org/x/sys/unix"

// The 32-bit ID calls; on 386 and arm the plain numbers are the old
// 16-bit ones (see sysnum_linux_32.go).
const (
	sysSetresuid = unix.SYS_SETRESUID
	sysSetresgid = unix.SYS_SETRESGID
)
