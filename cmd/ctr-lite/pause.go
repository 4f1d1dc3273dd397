package main

import (
	"flag"
)

var pauseCommand = &command{
	name:  "pause",
	runc:  true,
	args:  "ID",
	short: "freeze every process of the container (cgroup freezer)",
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		return opError("pause", id, rootOf(g).Pause(id))
	},
}

var resumeCommand = &command{
	name:  "resume",
	runc:  true,
	args:  "ID",
	short: "thaw a paused container",
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		return opError("resume", id, rootOf(g).Resume(id))
	},
}
