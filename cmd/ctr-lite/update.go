package main

import (
	"errors"
	"flag"
)

// updateOpts are update's flags: the limits (as cgroup's) and runc's
// own.
var updateOpts struct {
	limits *limitFlags
	rt     struct {
		period, runtime, kmem, kmemTCP, l3, memBw string
	}
}

var updateCommand = &command{
	name:  "update",
	runc:  true,
	args:  "[flags] ID",
	short: "change a container's resource limits (its cgroup)",
	long: `Only the limits given change. --resources FILE (or - for stdin) holds a
linux.resources object of config.json; flags apply on top of it.`,
	flags: func(fs *flag.FlagSet) {
		updateOpts.limits = newLimitFlags(fs)
		fs.Func("r", "shorthand for --resources", func(s string) error { return fs.Set("resources", s) })
		// runc's spelling.
		fs.Func("cpu-share", "CPU shares (v1 cpu.shares; runc's name for --cpu-shares)", func(s string) error { return fs.Set("cpu-shares", s) })
		fs.StringVar(&updateOpts.rt.period, "cpu-rt-period", "", "CPU realtime period in microseconds (cpu.rt_period_us)")
		fs.StringVar(&updateOpts.rt.runtime, "cpu-rt-runtime", "", "CPU realtime runtime in microseconds (cpu.rt_runtime_us)")
		fs.StringVar(&updateOpts.rt.kmem, "kernel-memory", "", "kernel memory limit (ignored, as by runc: Linux 5.16 removed it)")
		fs.StringVar(&updateOpts.rt.kmemTCP, "kernel-memory-tcp", "", "kernel TCP buffer limit (ignored, as by runc)")
		fs.StringVar(&updateOpts.rt.l3, "l3-cache-schema", "", "Intel RDT L3 cache schema (refused: linux.intelRdt is not supported)")
		fs.StringVar(&updateOpts.rt.memBw, "mem-bw-schema", "", "Intel RDT memory bandwidth schema (refused: linux.intelRdt is not supported)")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		res, err := updateOpts.limits.resources()
		if err != nil {
			return err
		}
		if updateOpts.rt.l3 != "" || updateOpts.rt.memBw != "" {
			return opError("update", id, errors.New("--l3-cache-schema, --mem-bw-schema: the container has no linux.intelRdt (Intel RDT is not supported)"))
		}
		// kernel-memory*: passed on, the cgroups package warns that they
		// are ignored, as runc 1.1 does.
		for _, l := range []struct{ name, v string }{
			{"cpu-rt-period", updateOpts.rt.period}, {"cpu-rt-runtime", updateOpts.rt.runtime},
			{"kernel-memory", updateOpts.rt.kmem}, {"kernel-memory-tcp", updateOpts.rt.kmemTCP},
		} {
			if l.v != "" {
				if err := setLimit(res, l.name, l.v); err != nil {
					return err
				}
			}
		}
		return opError("update", id, rootOf(g).Update(id, res))
	},
}
