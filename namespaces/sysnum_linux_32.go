//go:build linux && (386 || arm)

package namespaces

import "golang.org/x/sys/unix"

// On 386 and arm, setresuid(2) is the 16-bit call; the 32-bit one is
// setresuid32.
const (
	sysSetresuid = unix.SYS_SETRESUID32
	sysSetresgid = unix.SYS_SETRESGID32
)
