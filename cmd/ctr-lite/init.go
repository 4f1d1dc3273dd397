package main

import (
	"flag"
	"os"
	"runtime"

	"github.com/ctr-lite/ctr-lite/container"
)

// A container's init must do all its per-thread setup (capabilities,
// no_new_privs, seccomp) on the thread that finally calls execve: lock the
// main goroutine to the main thread before main runs.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" && container.IsInit() {
		runtime.LockOSThread()
	}
}

var initCommand = &command{
	name:   "init",
	short:  "the container's init (started by create; not for users)",
	hidden: true,
	run: func(g *globals, _ *flag.FlagSet, _ []string) error {
		if !container.IsInit() {
			return usagef("init is started by create and run, not by hand")
		}
		// The init reports its error to create over the sync
		// socket; create prints it.
		if err := container.Init(); err != nil {
			return exitError{code: 1}
		}
		return nil
	},
}
