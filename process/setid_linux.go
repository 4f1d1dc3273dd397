package process

import "golang.org/x/sys/unix"

// setresuid and setresgid change the credentials of the calling thread
// only. Go's syscall.Setuid applies them to every thread of the process
// (runtime.AllThreadsSyscall), which means stopping each thread in turn:
// measured here at tens of milliseconds in a container's init. Only the
// thread that calls execve(2) matters: its credentials are the new
// program's, and execve ends every other thread.
//
// Preconditions: the goroutine is locked to its OS thread, and execve
// follows on it.
func setresuid(uid uint32) error {
	id := uintptr(uid)
	if _, _, e := unix.RawSyscall(sysSetresuid, id, id, id); e != 0 {
		return e
	}
	return nil
}

func setresgid(gid uint32) error {
	id := uintptr(gid)
	if _, _, e := unix.RawSyscall(sysSetresgid, id, id, id); e != 0 {
		return e
	}
	return nil
}
