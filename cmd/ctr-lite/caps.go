package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/caps"
)

var capsCommand = &command{
	name:  "caps",
	args:  "[flags] -- CMD [ARG...] | decode HEX | show [--format json] PID | list",
	short: "run a command with chosen capabilities; decode, show, list capabilities",
	long: `LIST is comma separated names (CAP_CHOWN, chown, Chown), "all" (every
capability of this kernel), "none" or "", "runc-default", "docker-default".

Sets not given start from this process's own bounding, effective and
permitted sets; inheritable and ambient start empty. --all sets bounding,
effective and permitted; --bounding etc. then replace one set; --drop
removes from all five. The command runs as the current user (in a
container, the process package changes user between the bounding drop and
capset). As uid 0, execve gives the program permitted = bounding |
inheritable (capabilities(7)), so for root the bounding set is what counts.

  decode HEX   names of the bits of a mask, one a line (capsh --decode)
  show PID     the five sets of a process, from /proc/PID/status
  list         every capability, its number, and whether this kernel has it

The words decode, show and list are subcommands; to run a program with
such a name give its path (./list).`,
	flags: func(fs *flag.FlagSet) {
		fs.String("bounding", "", "bounding set `LIST`: what execve can ever grant")
		fs.String("effective", "", "effective set `LIST`: what the kernel checks")
		fs.String("permitted", "", "permitted set `LIST`: what may be made effective")
		fs.String("inheritable", "", "inheritable set `LIST` (default empty)")
		fs.String("ambient", "", "ambient set `LIST` (default empty; each must be permitted and inheritable)")
		fs.String("all", "", "shorthand: bounding, effective and permitted all `LIST`")
		fs.String("drop", "", "remove `LIST` from all five sets")
		fs.String("format", "text", "output of show: text or json")
	},
	run: runCaps,
}

func runCaps(g *globals, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef("missing command: give -- CMD [ARG...], or decode, show, list")
	}
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })
	sub := args[0]
	if sub == "decode" || sub == "show" || sub == "list" {
		for _, name := range []string{"bounding", "effective", "permitted", "inheritable", "ambient", "all", "drop"} {
			if _, ok := set[name]; ok {
				return usagef("--%s is for running a command, not %s", name, sub)
			}
		}
	}
	format := fs.Lookup("format").Value.String()
	switch sub {
	case "decode":
		rest, help, err := subFlags(g, "caps", "decode", "HEX", args[1:], nil)
		if help || err != nil {
			return err
		}
		return capsDecode(g, rest)
	case "show":
		return capsShow(g, format, args[1:])
	case "list":
		rest, help, err := subFlags(g, "caps", "list", "", args[1:], nil)
		if help || err != nil {
			return err
		}
		if len(rest) != 0 {
			return usagef("list takes no arguments")
		}
		return capsListAll(g)
	}
	if _, ok := set["format"]; ok {
		return usagef("--format is for show")
	}
	return capsRun(g, set, args)
}

func capsDecode(g *globals, args []string) error {
	if len(args) != 1 {
		return usagef("decode takes one HEX mask, like 00000000a80425fb")
	}
	m, err := caps.ParseMask(args[0])
	if err != nil {
		return err
	}
	for _, n := range m.Names() {
		fmt.Fprintln(g.stdout, n)
	}
	return nil
}

// capsSetJSON is one set in `caps show --format json`.
type capsSetJSON struct {
	Mask string   `json:"mask"`
	Caps []string `json:"caps"`
}

func capsShow(g *globals, format string, args []string) error {
	rest, help, err := subFlags(g, "caps", "show", "[--format text|json] PID", args, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", format, "text or json")
	})
	if help || err != nil {
		return err
	}
	if format != "text" && format != "json" {
		return usagef("--format %q: must be text or json", format)
	}
	if len(rest) != 1 {
		return usagef("show takes one PID")
	}
	pid, err := strconv.Atoi(rest[0])
	if err != nil || pid <= 0 {
		return usagef("bad pid %q", rest[0])
	}
	st, err := caps.ReadStatus(pid)
	if err != nil {
		return err
	}
	sets := []struct {
		field, name string
		m           caps.Mask
	}{
		{"CapInh", "inheritable", st.Inheritable},
		{"CapPrm", "permitted", st.Permitted},
		{"CapEff", "effective", st.Effective},
		{"CapBnd", "bounding", st.Bounding},
		{"CapAmb", "ambient", st.Ambient},
	}
	if format == "json" {
		out := map[string]any{"pid": pid}
		for _, s := range sets {
			out[s.name] = capsSetJSON{Mask: s.m.String(), Caps: s.m.Names()}
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, s := range sets {
		names := strings.Join(s.m.Names(), ",")
		if names == "" {
			names = "-"
		}
		fmt.Fprintf(g.stdout, "%s %-11s %s %s\n", s.field, s.name, s.m, names)
	}
	return nil
}

func capsListAll(g *globals) error {
	last, err := caps.LastCap()
	if err != nil {
		return err
	}
	top := caps.Known()[len(caps.Known())-1]
	top = max(top, last)
	fmt.Fprintf(g.stdout, "%-3s %-24s %s\n", "NR", "NAME", "KERNEL")
	for c := caps.Cap(0); c <= top; c++ {
		has := "no"
		if c <= last {
			has = "yes"
		}
		fmt.Fprintf(g.stdout, "%-3d %-24s %s\n", int(c), caps.Name(c), has)
	}
	return nil
}

// capsRun runs args with the sets the flags ask for, as the current user.
func capsRun(g *globals, flags map[string]string, args []string) error {
	// Start from this process's own sets; inheritable and ambient empty.
	self, err := caps.ReadStatus(os.Getpid())
	if err != nil {
		return err
	}
	spec := &specs.LinuxCapabilities{
		Bounding:  self.Bounding.Names(),
		Effective: self.Effective.Names(),
		Permitted: self.Permitted.Names(),
	}
	if v, ok := flags["all"]; ok {
		l, err := capsList(v, "all")
		if err != nil {
			return err
		}
		spec.Bounding, spec.Effective, spec.Permitted = l, l, l
	}
	for name, dst := range map[string]*[]string{
		"bounding": &spec.Bounding, "effective": &spec.Effective, "permitted": &spec.Permitted,
		"inheritable": &spec.Inheritable, "ambient": &spec.Ambient,
	} {
		if v, ok := flags[name]; ok {
			if *dst, err = capsList(v, name); err != nil {
				return err
			}
		}
	}
	if v, ok := flags["drop"]; ok {
		l, err := capsList(v, "drop")
		if err != nil {
			return err
		}
		spec = capsDrop(spec, l)
	}
	set, err := caps.FromSpec(spec)
	if err != nil {
		return err
	}
	if set.Unraisable != 0 {
		// Asked for by name on the command line: refuse rather than
		// leave it out as a config.json's would be.
		set.Ambient |= set.Unraisable
		if err := set.Validate(); err != nil {
			return err
		}
	}
	if len(set.Ignored) > 0 {
		g.log.Warnf("ignoring capabilities this kernel does not have: %s", strings.Join(set.Ignored, ","))
	}
	return caps.Exec(set, args, os.Environ(), g.runner("caps"))
}

// capsList parses the LIST of flag --name.
func capsList(v, name string) ([]string, error) {
	l, err := caps.ParseList(v)
	if err != nil {
		return nil, errorf("--%s: %w", name, err)
	}
	return l, nil
}

// capsDrop removes the names in drop from every set of spec.
func capsDrop(spec *specs.LinuxCapabilities, drop []string) *specs.LinuxCapabilities {
	gone := map[string]bool{}
	for _, n := range drop {
		gone[n] = true
	}
	keep := func(l []string) []string {
		var out []string
		for _, n := range l {
			if c, err := caps.Parse(n); err == nil && gone[caps.Name(c)] {
				continue
			}
			out = append(out, n)
		}
		return out
	}
	out := *spec
	for _, set := range []*[]string{&out.Bounding, &out.Effective, &out.Permitted, &out.Inheritable, &out.Ambient} {
		*set = keep(*set) // one call site: keep is inlined once
	}
	return &out
}
