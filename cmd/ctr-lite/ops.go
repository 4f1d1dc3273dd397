package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/container"
)

func init() {
	register(&command{
		name:  "pause",
		runc:  true,
		args:  "ID",
		short: "freeze every process of the container (cgroup freezer)",
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			return opError("pause", id, rootOf(g).Pause(id, g.explainOut()))
		},
	})
	register(&command{
		name:  "resume",
		runc:  true,
		args:  "ID",
		short: "thaw a paused container",
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			return opError("resume", id, rootOf(g).Resume(id, g.explainOut()))
		},
	})
	var psFormat string
	register(&command{
		name:    "ps",
		runc:    true,
		inOrder: true,
		args:    "[flags] ID [PS ARGS...]",
		short:   "list the container's processes (host pids)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&psFormat, "format", "table", "table (the host's ps with PS ARGS, default -ef) or json (pids)")
			fs.StringVar(&psFormat, "f", "table", "shorthand for --format")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			if len(args) == 0 {
				return usagef("container ID is required")
			}
			id := args[0]
			if psFormat != "table" && psFormat != "json" {
				return usagef("--format %q: must be table or json", psFormat)
			}
			pids, err := rootOf(g).Pids(id)
			if err != nil {
				return opError("ps", id, err)
			}
			if psFormat == "json" {
				if pids == nil {
					pids = []int{}
				}
				return json.NewEncoder(g.stdout).Encode(pids)
			}
			return opError("ps", id, container.PsTable(g.stdout, pids, args[1:]))
		},
	})
	var limits *limitFlags
	var rt struct {
		period, runtime, kmem, kmemTCP, l3, memBw string
	}
	register(&command{
		name:  "update",
		runc:  true,
		args:  "[flags] ID",
		short: "change a container's resource limits (its cgroup)",
		long: `Only the limits given change. --resources FILE (or - for stdin) holds a
linux.resources object of config.json; flags apply on top of it.`,
		flags: func(fs *flag.FlagSet) {
			limits = newLimitFlags(fs)
			fs.Func("r", "shorthand for --resources", func(s string) error { return fs.Set("resources", s) })
			// runc's spelling.
			fs.Func("cpu-share", "CPU shares (v1 cpu.shares; runc's name for --cpu-shares)", func(s string) error { return fs.Set("cpu-shares", s) })
			fs.StringVar(&rt.period, "cpu-rt-period", "", "CPU realtime period in microseconds (cpu.rt_period_us)")
			fs.StringVar(&rt.runtime, "cpu-rt-runtime", "", "CPU realtime runtime in microseconds (cpu.rt_runtime_us)")
			fs.StringVar(&rt.kmem, "kernel-memory", "", "kernel memory limit (ignored, as by runc: Linux 5.16 removed it)")
			fs.StringVar(&rt.kmemTCP, "kernel-memory-tcp", "", "kernel TCP buffer limit (ignored, as by runc)")
			fs.StringVar(&rt.l3, "l3-cache-schema", "", "Intel RDT L3 cache schema (refused: linux.intelRdt is not supported)")
			fs.StringVar(&rt.memBw, "mem-bw-schema", "", "Intel RDT memory bandwidth schema (refused: linux.intelRdt is not supported)")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			res, err := limits.resources()
			if err != nil {
				return err
			}
			if rt.l3 != "" || rt.memBw != "" {
				return opError("update", id, errors.New("--l3-cache-schema, --mem-bw-schema: the container has no linux.intelRdt (Intel RDT is not supported)"))
			}
			if rt.period != "" {
				n, err := strconv.ParseUint(rt.period, 10, 64)
				if err != nil {
					return usagef("--cpu-rt-period %q: not a non-negative integer", rt.period)
				}
				cpu(res).RealtimePeriod = &n
			}
			if rt.runtime != "" {
				n, err := strconv.ParseInt(rt.runtime, 10, 64)
				if err != nil {
					return usagef("--cpu-rt-runtime %q: not an integer", rt.runtime)
				}
				cpu(res).RealtimeRuntime = &n
			}
			// Passed on: the cgroups package warns that they are ignored,
			// as runc 1.1 does.
			if rt.kmem != "" {
				n, err := cgroups.ParseSize(rt.kmem)
				if err != nil {
					return usagef("--kernel-memory: %v", err)
				}
				memory(res).Kernel = &n //nolint:staticcheck // deprecated, still runc's flag
			}
			if rt.kmemTCP != "" {
				n, err := cgroups.ParseSize(rt.kmemTCP)
				if err != nil {
					return usagef("--kernel-memory-tcp: %v", err)
				}
				memory(res).KernelTCP = &n //nolint:staticcheck // deprecated, still runc's flag
			}
			return opError("update", id, rootOf(g).Update(id, res, g.explainOut()))
		},
	})
	var stats bool
	var interval time.Duration
	register(&command{
		name:  "events",
		runc:  true,
		args:  "[flags] ID",
		short: "print the container's events as JSON lines: stats, oom",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&stats, "stats", false, "print the stats once and exit")
			fs.DurationVar(&interval, "interval", 5*time.Second, "how often stats are printed")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			return opError("events", id, rootOf(g).Events(id, interval, stats, g.stdout))
		},
	})
	register(&command{
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
	})
}
