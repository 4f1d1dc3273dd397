package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ctr-lite/ctr-lite/anatomy"
	"github.com/ctr-lite/ctr-lite/container"
)

// inspectOpts are inspect's flags.
var inspectOpts struct{ format string }

var inspectCommand = &command{
	name:         "inspect",
	interspersed: true,
	args:         "[--format text|json] ID",
	short:        "show what makes a running container a container, beside the host",
	long: `Shows a running container's process beside the host's (PID 1), each part
with the file it was read from: its namespaces (own or shared with the
host), its cgroup with its limits and current use, its five capability
sets decoded, its seccomp mode and filters, no_new_privs, its user
namespace's uid/gid maps, its resource limits, its hostname, its mounts
(from its mountinfo, with their propagation) and its processes: what one
would otherwise assemble from /proc by hand.`,
	flags: func(fs *flag.FlagSet) {
		fs.StringVar(&inspectOpts.format, "format", "text", "text or json")
	},
	run: func(g *globals, fs *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		if inspectOpts.format != "text" && inspectOpts.format != "json" {
			return usagef("--format %q: want text or json", inspectOpts.format)
		}
		a, err := rootOf(g).Inspect(id)
		if err != nil {
			return opError("inspect", id, err)
		}
		if inspectOpts.format == "json" {
			data, err := json.MarshalIndent(a, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s\n", data)
			return nil
		}
		return writeAnatomy(g.stdout, a)
	},
}

// writeAnatomy prints the report as sections, the container's column
// beside the host's.
func writeAnatomy(w io.Writer, a *container.Anatomy) error {
	c, h := a.Container, a.Host
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	section := func(title, source string) {
		tw.Flush()
		fmt.Fprintf(w, "\n== %s  (%s)\n", title, source)
	}
	fmt.Fprintf(w, "container %s (%s), pid %d; host: pid %d\n", a.ID, a.Status, c.Pid, h.Pid)

	section("namespaces", c.Sources["namespaces"])
	fmt.Fprintln(tw, "KIND\tCONTAINER\tHOST\t")
	for i, n := range c.Namespaces {
		host := ""
		if i < len(h.Namespaces) {
			host = fmt.Sprint(h.Namespaces[i].Inode)
		}
		own := "shared with the host"
		if n.Own {
			own = "own"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", n.Kind, n.Inode, host, own)
	}

	section("cgroups", c.Sources["cgroups"])
	for _, l := range c.Cgroups {
		fmt.Fprintf(tw, "%d:%s:%s\n", l.Hierarchy, l.Controllers, l.Path)
	}
	tw.Flush()
	fmt.Fprintln(w, "limits and use (each file as read):")
	for _, f := range a.CgroupFiles {
		fmt.Fprintf(w, "  %s = %s\n", f.Path, f.Value)
	}

	section("capabilities", c.Sources["capabilities"])
	fmt.Fprintln(tw, "SET\tCONTAINER\tHOST\tCONTAINER'S, DECODED")
	for i, s := range c.Capabilities {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Set, s.Mask, h.Capabilities[i].Mask, decoded(s))
	}

	section("seccomp and no_new_privs", c.Sources["seccomp"])
	fmt.Fprintln(tw, "\tCONTAINER\tHOST")
	fmt.Fprintf(tw, "seccomp mode\t%s\t%s\n", seccompMode(c.Seccomp), seccompMode(h.Seccomp))
	fmt.Fprintf(tw, "seccomp filters\t%d\t%d\n", c.SeccompFilters, h.SeccompFilters)
	fmt.Fprintf(tw, "no_new_privs\t%v\t%v\n", c.NoNewPrivs, h.NoNewPrivs)

	section("user namespace ID maps: INSIDE OUTSIDE COUNT", c.Sources["id_maps"])
	fmt.Fprintln(tw, "\tCONTAINER\tHOST")
	fmt.Fprintf(tw, "uid_map\t%s\t%s\n", strings.Join(c.UIDMap, ", "), strings.Join(h.UIDMap, ", "))
	fmt.Fprintf(tw, "gid_map\t%s\t%s\n", strings.Join(c.GIDMap, ", "), strings.Join(h.GIDMap, ", "))

	section("resource limits: soft / hard", c.Sources["rlimits"])
	fmt.Fprintln(tw, "RESOURCE\tCONTAINER\tHOST")
	hl := map[string]anatomy.Rlimit{}
	for _, l := range h.Rlimits {
		hl[l.Resource] = l
	}
	for _, l := range c.Rlimits {
		fmt.Fprintf(tw, "%s\t%s / %s\t%s / %s\n", l.Resource, l.Soft, l.Hard, hl[l.Resource].Soft, hl[l.Resource].Hard)
	}

	section("hostname", c.Sources["hostname"])
	fmt.Fprintln(tw, "\tCONTAINER\tHOST")
	fmt.Fprintf(tw, "hostname\t%s\t%s\n", c.Hostname, h.Hostname)

	section("mounts, as the container sees them", c.Sources["mounts"])
	fmt.Fprintln(tw, "MOUNT POINT\tTYPE\tSOURCE\tOPTIONS\tPROPAGATION")
	for _, m := range c.Mounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Point, m.Type, m.Source, m.Options, m.Propagation)
	}

	section("processes", "the cgroup's cgroup.procs; /proc/PID/status NSpid, /proc/PID/cmdline")
	fmt.Fprintln(tw, "PID\tPID INSIDE\tCOMMAND")
	for _, p := range a.Processes {
		fmt.Fprintf(tw, "%d\t%d\t%s\n", p.Pid, p.NSPid, p.Command)
	}
	return tw.Flush()
}

// decoded names a set's capabilities, or says it is empty or full.
func decoded(s anatomy.CapSet) string {
	switch len(s.Names) {
	case 0:
		return "(none)"
	}
	return strings.Join(s.Names, ",")
}

func seccompMode(m int) string {
	switch m {
	case 0:
		return "0 (disabled)"
	case 1:
		return "1 (strict)"
	case 2:
		return "2 (filter)"
	}
	return fmt.Sprint(m)
}
