package main

import (
	"flag"

	"github.com/ctr-lite/ctr-lite/container"
)

// runOpts are run's flags: create's and its own.
var runOpts struct {
	createFlags
	detach, keep, noSubreaper bool
}

var runCommand = &command{
	name:  "run",
	runc:  true,
	args:  "[flags] ID",
	short: "create and start a container; in the foreground, wait and return its exit status",
	long: `In the foreground, run forwards signals to the container, proxies its
terminal when process.terminal is set and no --console-socket is given,
returns its exit status (128+N if signal N killed it) and deletes it
unless --keep.`,
	flags: func(fs *flag.FlagSet) {
		runOpts.add(fs)
		fs.BoolVar(&runOpts.detach, "detach", false, "return once the container runs")
		fs.BoolVar(&runOpts.detach, "d", false, "shorthand for --detach")
		fs.BoolVar(&runOpts.keep, "keep", false, "keep the container's state after it exits")
		fs.BoolVar(&runOpts.noSubreaper, "no-subreaper", false, "do not become the subreaper of the container's orphaned processes")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		code, err := rootOf(g).Run(container.RunOpts{CreateOpts: runOpts.opts(g, id), Detach: runOpts.detach, Keep: runOpts.keep, NoSubreaper: runOpts.noSubreaper})
		if err != nil {
			return opError("run", id, err)
		}
		if code != 0 {
			return exitError{code: code}
		}
		return nil
	},
}
