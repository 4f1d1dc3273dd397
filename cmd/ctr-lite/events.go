package main

import (
	"flag"
	"time"
)

// eventsOpts are events' flags.
var eventsOpts struct {
	stats    bool
	interval time.Duration
}

var eventsCommand = &command{
	name:  "events",
	runc:  true,
	args:  "[flags] ID",
	short: "print the container's events as JSON lines: stats, oom",
	flags: func(fs *flag.FlagSet) {
		fs.BoolVar(&eventsOpts.stats, "stats", false, "print the stats once and exit")
		fs.DurationVar(&eventsOpts.interval, "interval", 5*time.Second, "how often stats are printed")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		return opError("events", id, rootOf(g).Events(id, eventsOpts.interval, eventsOpts.stats, g.stdout))
	},
}
