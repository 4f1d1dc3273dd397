//go:build linux && (386 || arm)

package process

import "golang.org/x/sys/unix"

// On 386 and arm the original calls take 16-bit IDs; the *32 ones are
// the full-width calls.
const (
	sysSetresuid = unix.SYS_SETRESUID32
	sysSetresgid = unix.SYS_SETRESGID32
)
