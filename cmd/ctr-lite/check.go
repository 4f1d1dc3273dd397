package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/ctr-lite/ctr-lite/check"
)

// checkOpts are check's flags.
var checkOpts struct{ format string }

var checkCommand = &command{
	name:  "check",
	args:  "[--format text|json]",
	short: "report what this host offers containers (namespaces, cgroups, caps, seccomp...)",
	long: `Prints one line per feature: OK, WARN (absent or degraded: containers run,
a feature does not) or MISSING (a container cannot be built without it),
what was checked, and why it matters. Exits 1 if anything is MISSING.
Reads /proc and /sys, and probes pidfd_open and prctl(PR_GET_SECCOMP).`,
	flags: func(fs *flag.FlagSet) {
		fs.StringVar(&checkOpts.format, "format", "text", "output `FORMAT`: text or json")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		return runCheck(g, checkOpts.format, args)
	},
}

func runCheck(g *globals, format string, args []string) error {
	if len(args) != 0 {
		return usagef("unexpected arguments %q", args)
	}
	if format != "text" && format != "json" {
		return usagef("--format %q: want text or json", format)
	}
	rep := check.Live().Run()
	if format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return errorf("check: write json: %w", err)
		}
	} else {
		printReport(g, rep)
	}
	if m := rep.Missing(); len(m) > 0 {
		names := make([]string, len(m))
		for i, it := range m {
			names[i] = it.What
		}
		return errorf("check: this host lacks what a container needs: %s", strings.Join(names, ", "))
	}
	return nil
}

func printReport(g *globals, rep *check.Report) {
	fmt.Fprintf(g.stdout, "kernel %s, cgroup mode %s\n", rep.Kernel, rep.Cgroups.Mode)
	counts := map[check.Level]int{}
	for _, it := range rep.Items {
		counts[it.Level]++
		fmt.Fprintf(g.stdout, "%-8s %-24s %s\n", it.Level, it.What, it.Why)
	}
	fmt.Fprintf(g.stdout, "%d OK, %d WARN, %d MISSING\n", counts[check.OK], counts[check.Warn], counts[check.Missing])
}
