package rootfs

import (
	"runtime"

	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/step"
)

// Exec runs argv with c.Rootfs as its root directory, replacing this
// process: unshare(CLONE_NEWNS), the steps of c (Steps: the mounts, /dev,
// masked and read-only paths, pivot_root or chroot), then execve(2) of
// argv[0] looked up in env's PATH inside the new root. The mount
// namespace and root directory belong to the thread until execve, so
// the calling goroutine is locked to it for good; the host's mount table
// is never changed. r, which may be nil, explains each step. Exec returns
// only on failure, naming the step.
func Exec(c Config, argv, env []string, r *step.Runner) error {
	steps, err := Steps(c)
	if err != nil {
		return err
	}
	// Never unlocked: execve replaces the process.
	runtime.LockOSThread()
	if err := r.Run(append([]step.Step{UnshareStep()}, steps...)...); err != nil {
		return err
	}
	path, err := process.LookPath(argv[0], env)
	if err != nil {
		return err
	}
	return r.RunOne(process.ExecStep(path, argv, env))
}
