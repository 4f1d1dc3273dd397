package exeseal

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// TrampolineSize is the trampoline's size in bytes.
func TrampolineSize() int { return len(trampolineELF) }

// HasTrampoline: Trampoline exists for this architecture.
func HasTrampoline() bool { return trampolineELF != nil }

// Trampoline returns a sealed memfd holding ctr-lite's exec trampoline: a
// static program of some 600 bytes (testdata/trampoline_ARCH.s: amd64, arm64) that a raw-forked
// child executes in place of the container's program. The child is a fork
// of the runtime, so its /proc/PID/exe is the host's ctr-lite binary; a
// program it executed as "#!/proc/self/exe" (or through a symlink to it)
// would run that binary inside the container, where a process could open
// /proc/PID/exe and write the host's binary once it stops running
// (CVE-2019-5736; Linux 6.11 lets a running binary be written). Executed
// first, the trampoline is what /proc/self/exe names: nobody can write it
// (F_SEAL_WRITE) and no one but this container runs it.
//
// Its argv is [name, fifo, failed, path, argv...]: it makes itself not
// dumpable (no process of the container may open its /proc/PID/fd, where
// the FIFO is, until the program's execve), opens fifo (the exec FIFO,
// "/proc/self/fd/N") for writing, which blocks until `start`,
// closes N, writes "0", and execs path with argv and its own environment.
// If execve fails it writes failed, path, a NUL and the errno byte to the FIFO
// (see container's readInit) and exits 127. errors.ErrUnsupported: no
// trampoline for this architecture.
func Trampoline() (*os.File, error) {
	if trampolineELF == nil {
		return nil, errors.ErrUnsupported
	}
	fd, err := unix.MemfdCreate("ctr-lite-exec", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		// Before Linux 6.3 there is no MFD_EXEC: memfds are executable.
		fd, err = unix.MemfdCreate("ctr-lite-exec", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, errorf("memfd_create ctr-lite-exec: %w", err)
	}
	f := os.NewFile(uintptr(fd), "ctr-lite-exec")
	if _, err := f.Write(trampolineELF); err != nil {
		f.Close()
		return nil, errorf("write the exec trampoline: %w", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		f.Close()
		return nil, errorf("seal the exec trampoline: %w", err)
	}
	return f, nil
}
