package main

import (
	"flag"
)

var startCommand = &command{
	name:  "start",
	runc:  true,
	args:  "ID",
	short: "start the process of a created container",
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		return opError("start", id, rootOf(g).Start(id))
	},
}
