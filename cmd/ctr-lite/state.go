package main

import (
	"encoding/json"
	"flag"
	"fmt"
)

var stateCommand = &command{
	name:  "state",
	runc:  true,
	args:  "ID",
	short: "print the container's state as JSON (runtime.md \"State\")",
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		rep, err := rootOf(g).Describe(id)
		if err != nil {
			return opError("state", id, err)
		}
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%s\n", data)
		return nil
	},
}
