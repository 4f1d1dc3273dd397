package main

import (
	"encoding/json"
	"errors"
	"flag"
	"os"

	"github.com/ctr-lite/ctr-lite/container"
)

// specOpts are spec's flags.
var specOpts struct {
	rootless bool
	bundle   string
}

var specCommand = &command{
	name:  "spec",
	runc:  true,
	args:  "[flags]",
	short: "write a default config.json (runc's defaults) in the bundle",
	flags: func(fs *flag.FlagSet) {
		fs.BoolVar(&specOpts.rootless, "rootless", false, "a spec for an unprivileged user (a user namespace)")
		fs.StringVar(&specOpts.bundle, "bundle", ".", "directory to write config.json in")
		fs.StringVar(&specOpts.bundle, "b", ".", "shorthand for --bundle")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		if len(args) > 0 {
			return usagef("spec takes no arguments")
		}
		s := container.DefaultSpec()
		if specOpts.rootless {
			container.Rootless(s, uint32(os.Geteuid()), uint32(os.Getegid()))
		}
		data, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return err
		}
		path := specOpts.bundle + "/config.json"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return errorf("spec: %s exists: remove it first", path)
			}
			return errorf("spec: %w", err)
		}
		defer f.Close()
		if _, err := f.Write(append(data, '\n')); err != nil {
			return errorf("spec: write %s: %w", path, err)
		}
		return nil
	},
}
