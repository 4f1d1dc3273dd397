package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ctr-lite/ctr-lite/container"
)

// listOpts are list's flags.
var listOpts struct {
	format string
	quiet  bool
}

var listCommand = &command{
	name:  "list",
	runc:  true,
	args:  "[flags]",
	short: "list the containers under --root",
	flags: func(fs *flag.FlagSet) {
		fs.StringVar(&listOpts.format, "format", "table", "table or json")
		fs.StringVar(&listOpts.format, "f", "table", "shorthand for --format")
		fs.BoolVar(&listOpts.quiet, "quiet", false, "print only the IDs")
		fs.BoolVar(&listOpts.quiet, "q", false, "shorthand for --quiet")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		if len(args) > 0 {
			return usagef("list takes no arguments")
		}
		if listOpts.format != "table" && listOpts.format != "json" {
			return usagef("--format %q: must be table or json", listOpts.format)
		}
		var reps []*container.Report
		var err error
		if listOpts.quiet {
			// Only the IDs: each container's status record is read, /proc not.
			ids, err := rootOf(g).ListIDs()
			if err != nil {
				return errorf("list: %w", err)
			}
			for _, id := range ids {
				reps = append(reps, &container.Report{ID: id})
			}
		} else if reps, err = rootOf(g).List(); err != nil {
			return errorf("list: %w", err)
		}
		return printList(g, reps, listOpts.format, listOpts.quiet)
	},
}

func printList(g *globals, reps []*container.Report, format string, quiet bool) error {
	if quiet {
		out := bufio.NewWriter(g.stdout)
		for _, r := range reps {
			fmt.Fprintln(out, r.ID)
		}
		return out.Flush()
	}
	if format == "json" {
		if len(reps) == 0 {
			reps = nil // null, as runc 1.1 encodes its nil slice
		}
		return json.NewEncoder(g.stdout).Encode(reps)
	}
	// tabwriter writes each cell on its own: one write(2) for the lot.
	out := bufio.NewWriter(g.stdout)
	w := tabwriter.NewWriter(out, 12, 1, 3, ' ', 0)
	fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
	for _, r := range reps {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.Pid, r.Status, r.Bundle,
			r.Created.Format(time.RFC3339Nano), r.Owner)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Flush()
}
