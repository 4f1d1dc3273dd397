package main

import (
	"flag"
	"runtime"

	"github.com/ctr-lite/ctr-lite/process"
)

// processOpts are process's flags, set when they are declared.
var processOpts *procFlags

var processCommand = &command{
	name:  "process",
	args:  "[flags] -- CMD [ARG...]",
	short: "apply process hygiene (user, rlimits, no_new_privs, fds...) to itself and exec CMD",
	long: `Runs the last stage of a container's setup on ctr-lite itself, then execs
CMD: sysctl, rlimits, oom_score_adj, close-on-exec on every fd but 0-2 and
--keep-fd, cwd, the user change (setgroups, setgid, setuid), umask,
no_new_privs, execve. No namespaces are made here: run it under
"ctr-lite ns" (or unshare) to set namespaced sysctls.

Users and groups given by name are looked up in /etc/passwd and /etc/group
of the current root. The environment is only --env, plus PATH and HOME
when not given, as in a container.

Example:
  ctr-lite process --user 1000:1000 --rlimit RLIMIT_NOFILE=100:200 \
    --no-new-privs -- /bin/busybox sh -c 'cat /proc/self/limits'`,
	flags: func(fs *flag.FlagSet) { processOpts = addProcFlags(fs) },
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		return runProcess(g, processOpts, args)
	},
}

func runProcess(g *globals, pf *procFlags, args []string) error {
	if len(args) == 0 {
		return usagef("no command given")
	}
	cfg, err := pf.config(args)
	if err != nil {
		return err
	}
	if len(cfg.Sysctl) > 0 {
		if cfg.Namespaces, err = process.OwnNamespaces("/proc"); err != nil {
			return err
		}
	}
	// Every step is per-thread state that execve must inherit: stay on
	// this thread until then (it never returns on success).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	steps, _, err := process.Steps(cfg)
	if err != nil {
		return err
	}
	return g.runner("process").Run(steps...)
}
