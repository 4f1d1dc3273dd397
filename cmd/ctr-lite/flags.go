package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// intFlag is an int flag that knows whether it was given.
type intFlag struct {
	v   int
	set bool
}

func (f *intFlag) String() string { return "" }
func (f *intFlag) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errorf("%q is not an integer", s)
	}
	f.v, f.set = v, true
	return nil
}

// subFlags parses the arguments of subcommand sub of cmd ("cgroup
// stats", "ns show"): flags may come anywhere among them, as with runc's
// commands (`cgroup stats PATH --format json`), and "--" ends them.
// declare adds the subcommand's flags; usage is what --help prints after
// "ctr-lite cmd sub". It returns the other arguments, in order; help is
// true when --help was asked for and printed.
func subFlags(g *globals, cmd, sub, usage string, args []string, declare func(fs *flag.FlagSet)) (rest []string, help bool, err error) {
	fs := flag.NewFlagSet("ctr-lite "+cmd+" "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if declare != nil {
		declare(fs)
	}
	rest, err = parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(g.stderr, "Usage: %s\n", strings.TrimSpace(fs.Name()+" "+usage))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(g.stderr, "\nFlags:\n")
			printDefaults(g.stderr, fs)
		}
		return nil, true, nil
	}
	if err != nil {
		return nil, false, usagef("%s: %v", sub, err)
	}
	return rest, false, nil
}
