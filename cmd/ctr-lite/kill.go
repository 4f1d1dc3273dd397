package main

import (
	"flag"

	"github.com/ctr-lite/ctr-lite/container"
)

// killOpts are kill's flags.
var killOpts struct{ all bool }

var killCommand = &command{
	name:  "kill",
	runc:  true,
	args:  "[flags] ID [SIGNAL]",
	short: "send a signal to the container's init (default SIGTERM)",
	long: `SIGNAL is a name with or without SIG (TERM, SIGKILL), a number (15), or
RTMIN+N / RTMAX-N.`,
	flags: func(fs *flag.FlagSet) {
		fs.BoolVar(&killOpts.all, "all", false, "send the signal to every process in the container's cgroup")
		fs.BoolVar(&killOpts.all, "a", false, "shorthand for --all")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		if len(args) == 0 || len(args) > 2 {
			return usagef("expected ID [SIGNAL]")
		}
		id, name := args[0], "SIGTERM"
		if len(args) == 2 {
			name = args[1]
		}
		sig, err := container.ParseSignal(name)
		if err != nil {
			return opError("kill", id, err)
		}
		return opError("kill", id, rootOf(g).Kill(id, sig, killOpts.all))
	},
}
