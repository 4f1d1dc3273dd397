package main

import (
	"errors"
	"flag"

	"github.com/ctr-lite/ctr-lite/container"
)

// deleteOpts are delete's flags.
var deleteOpts struct{ force bool }

var deleteCommand = &command{
	name:  "delete",
	runc:  true,
	args:  "[flags] ID",
	short: "delete a stopped container (its cgroup and state), then the poststop hooks",
	flags: func(fs *flag.FlagSet) {
		fs.BoolVar(&deleteOpts.force, "force", false, "kill the container first if it runs; no error if it does not exist")
		fs.BoolVar(&deleteOpts.force, "f", false, "shorthand for --force")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		err = rootOf(g).Delete(id, deleteOpts.force)
		if errors.Is(err, container.ErrNotExist) && deleteOpts.force {
			return nil
		}
		return opError("delete", id, err)
	},
}
