package caps

import (
	"os"
	"runtime"

	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/step"
)

// Exec runs argv (argv[0] looked up in env's PATH) with the capability
// sets of set, as the current user, replacing this process: the bounding
// set is dropped, then the other sets are applied (capset(2), ambient
// raises), then execve(2). Capabilities are per thread, so the calling
// goroutine is locked to its thread for good; r, which may be nil,
// explains each step. Exec returns only on failure, naming the step.
//
// A container also changes user between the bounding drop and the other
// sets (package process); here the program keeps the caller's uid.
func Exec(set *Set, argv, env []string, r *step.Runner) error {
	path, err := process.LookPath(argv[0], env)
	if err != nil {
		return err
	}
	// Never unlocked: execve replaces the process.
	runtime.LockOSThread()
	if err := r.Run(set.BoundingSteps()...); err != nil {
		return err
	}
	r.Note("no user change: the program runs as uid %d (a container's user is set here, between the two)", os.Getuid())
	if os.Geteuid() == 0 && set.Permitted != set.Bounding|set.Inheritable {
		r.Note("uid 0: execve makes permitted = bounding | inheritable (capabilities(7), programs run by root)")
	}
	if err := r.Run(set.ApplySteps()...); err != nil {
		return err
	}
	return r.RunOne(process.ExecStep(path, argv, env))
}
