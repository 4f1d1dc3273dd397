package seccomp

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"github.com/ctr-lite/ctr-lite/step"
	"golang.org/x/sys/unix"
)

// Load installs f on the calling thread with seccomp(2)
// SECCOMP_SET_MODE_FILTER, or prctl(PR_SET_SECCOMP) on kernels without
// seccomp(2) when no flag is asked for.
//
// A filter is per thread and inherited by children and across execve; it
// can never be removed. The kernel accepts it only from a thread with
// no_new_privs set (NoNewPrivsStep) or CAP_SYS_ADMIN in its user namespace,
// so that a filter cannot trick a setuid program into misbehaving.
//
// When f has SCMP_ACT_NOTIFY rules (SECCOMP_FILTER_FLAG_NEW_LISTENER),
// Load returns the listener: the fd (close-on-exec) through which a
// supervisor receives the notified syscalls (SECCOMP_IOCTL_NOTIF_RECV)
// and answers them (SECCOMP_IOCTL_NOTIF_SEND). Otherwise it returns nil.
//
// Preconditions: the goroutine is locked to its OS thread
// (runtime.LockOSThread) and that thread calls execve next
// (process.ExecStep). Load is the last step before execve because from
// here on every syscall of this thread is checked: execve itself, and
// what the Go runtime does before it, must be allowed by the profile.
func Load(f *Filter) (*os.File, error) {
	if len(f.Program) == 0 {
		return nil, errors.New("empty seccomp program")
	}
	prog := unix.SockFprog{Len: uint16(len(f.Program)), Filter: &f.Program[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(f.Flags), uintptr(unsafe.Pointer(&prog)))
	if errno == unix.ENOSYS && f.Flags == 0 {
		_, _, errno = unix.Syscall6(unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0, 0)
	}
	runtime.KeepAlive(f.Program)
	switch {
	case errno != 0:
		return nil, loadErr(f, errno)
	case f.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0:
		return os.NewFile(r, "seccomp-listener"), nil
	case r != 0 && f.Flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0:
		return nil, errorf("SECCOMP_FILTER_FLAG_TSYNC: thread %d could not be synchronized", r)
	}
	return nil, nil
}

// loadErr explains a failed seccomp(2) or prctl(PR_SET_SECCOMP).
func loadErr(f *Filter, errno unix.Errno) error {
	switch {
	case errno == unix.EACCES:
		return errorf("%w: set no_new_privs first or hold CAP_SYS_ADMIN", errno)
	case errno == unix.EINVAL && f.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0:
		return errorf("%w: the kernel may lack seccomp user notification (Linux 5.0) or a flag asked for", errno)
	}
	return errno
}

// LoadStep is Load as a step, for --explain. When the filter returns a
// listener, listener is called with it (and must close it) before the
// next step; with a nil listener the fd is closed, so that notified
// syscalls fail with ENOSYS (seccomp_unotify(2): no listener left).
func LoadStep(f *Filter, listener func(*os.File) error) step.Step {
	flags := "0"
	if len(f.FlagNames) > 0 {
		flags = strings.Join(f.FlagNames, "|")
	}
	return step.Step{
		Op:   "seccomp",
		Args: fmt.Sprintf("SECCOMP_SET_MODE_FILTER, %s, {len: %d instructions, %s}", flags, len(f.Program), abiNames(f.Arches)),
		Why:  "every later syscall of this thread and its children is checked; execve must be allowed",
		Do: func() error {
			l, err := Load(f)
			if err != nil || l == nil {
				return err
			}
			if listener == nil {
				return l.Close()
			}
			return listener(l)
		},
		ReadBack: func() (string, error) {
			return threadStatus("Seccomp", "Seccomp_filters")
		},
	}
}

// NoNewPrivsStep sets no_new_privs on the calling thread: execve can no
// longer grant privileges (setuid bits, file capabilities), which lets
// the kernel accept a seccomp filter from a thread without CAP_SYS_ADMIN.
// It is inherited and cannot be unset.
func NoNewPrivsStep() step.Step {
	return step.Step{
		Op:   "prctl",
		Args: "PR_SET_NO_NEW_PRIVS, 1",
		Why:  "execve can no longer gain privileges; lets the filter be loaded without CAP_SYS_ADMIN",
		Do: func() error {
			return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
		},
		ReadBack: func() (string, error) { return threadStatus("NoNewPrivs") },
	}
}

// threadStatus reads fields of /proc/thread-self/status: the seccomp
// state is per thread.
func threadStatus(keys ...string) (string, error) {
	data, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return "", err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, want := range keys {
			if k == want {
				out = append(out, k+": "+strings.TrimSpace(v))
			}
		}
	}
	return strings.Join(out, ", "), nil
}
