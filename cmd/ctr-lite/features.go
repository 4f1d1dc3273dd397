package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/ctr-lite/ctr-lite/container"
)

var featuresCommand = &command{
	name:  "features",
	runc:  true,
	args:  "",
	short: "print what this runtime supports as JSON (features.md)",
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		if len(args) > 0 {
			return usagef("features takes no arguments")
		}
		data, err := json.MarshalIndent(container.Features(), "", "    ")
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%s\n", data)
		return nil
	},
}
