package main

import (
	"encoding/json"
	"flag"
)

// psOpts are ps's flags.
var psOpts struct{ format string }

var psCommand = &command{
	name:    "ps",
	runc:    true,
	inOrder: true,
	args:    "[flags] ID [PS ARGS...]",
	short:   "list the container's processes (host pids)",
	flags: func(fs *flag.FlagSet) {
		fs.StringVar(&psOpts.format, "format", "table", "table (the host's ps with PS ARGS, default -ef) or json (pids)")
		fs.StringVar(&psOpts.format, "f", "table", "shorthand for --format")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		if len(args) == 0 {
			return usagef("container ID is required")
		}
		id := args[0]
		if psOpts.format != "table" && psOpts.format != "json" {
			return usagef("--format %q: must be table or json", psOpts.format)
		}
		pids, err := rootOf(g).Pids(id)
		if err != nil {
			return opError("ps", id, err)
		}
		if psOpts.format == "json" {
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(g.stdout).Encode(pids)
		}
		return opError("ps", id, rootOf(g).PsTable(g.stdout, pids, args[1:]))
	},
}
