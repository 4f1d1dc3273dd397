package seccomp

import (
	"runtime"

	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/step"
)

// Exec runs argv (argv[0] looked up in env's PATH, before the filter
// exists: the lookup's calls are not the program's to be judged) under
// the filter f, replacing this process: prctl(PR_SET_NO_NEW_PRIVS) if
// noNewPrivs (without it, loading needs CAP_SYS_ADMIN), seccomp(2), then
// execve(2), which the profile must allow. The filter and no_new_privs
// belong to the thread, so the calling goroutine is locked to it for
// good; r, which may be nil, explains each step. Exec returns only on
// failure, naming the step.
func Exec(f *Filter, noNewPrivs bool, argv, env []string, r *step.Runner) error {
	path, err := process.LookPath(argv[0], env)
	if err != nil {
		return err
	}
	r.Note("%d BPF instructions for %s; default %s", len(f.Program), f.Arch.Name, ActionString(f.Default))
	// Never unlocked: execve replaces the process.
	runtime.LockOSThread()
	var steps []step.Step
	if noNewPrivs {
		steps = append(steps, NoNewPrivsStep())
	}
	steps = append(steps, LoadStep(f, nil), process.ExecStep(path, argv, env))
	return r.Run(steps...)
}
