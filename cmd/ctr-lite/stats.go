package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ctr-lite/ctr-lite/container"
	"golang.org/x/sys/unix"
)

// statsOptions are the flags of "ctr-lite stats".
type statsOptions struct {
	noStream bool
	format   string
	interval time.Duration
}

// statsOpts are stats' flags.
var statsOpts = &statsOptions{}

var statsCommand = &command{
	name:         "stats",
	interspersed: true,
	args:         "[flags] [ID...]",
	short:        "show containers' CPU, memory, pids, OOM kills, throttling and block I/O, live",
	long: `Shows the counters of every container under --root (or of those named),
read from their cgroups, refreshed each --interval like top(1) until
interrupted. CPU % is the CPU time used over the last interval per wall
time (100% = one CPU busy); MEM % is usage over the limit; OOM is the
number of processes the kernel's OOM killer killed (v1 memory.oom_control,
v2 memory.events oom_kill); THROTTLED is how many CFS periods the CPU quota
ran out in, and for how long (cpu.stat).

  ctr-lite stats                       live table
  ctr-lite stats --no-stream web       one table (after one --interval, for CPU %)
  ctr-lite stats --format json         one JSON object per container a line
  ctr-lite stats --format prometheus   the Prometheus text format, once:
      ctr-lite stats --format prometheus > /var/lib/node_exporter/ctr-lite.prom.$$ &&
        mv /var/lib/node_exporter/ctr-lite.prom.$$ /var/lib/node_exporter/ctr-lite.prom`,
	flags: func(fs *flag.FlagSet) {
		fs.BoolVar(&statsOpts.noStream, "no-stream", false, "print once and exit")
		fs.StringVar(&statsOpts.format, "format", "table", "table, json or prometheus (prometheus prints once)")
		fs.DurationVar(&statsOpts.interval, "interval", time.Second, "time between refreshes, and over which CPU % is measured")
	},
	run: statsOpts.run,
}

func (o *statsOptions) run(g *globals, fs *flag.FlagSet, args []string) error {
	ids := args
	switch o.format {
	case "table", "json", "prometheus":
	default:
		return usagef("--format %q: want table, json or prometheus", o.format)
	}
	if o.interval <= 0 {
		return usagef("--interval %s: must be positive", o.interval)
	}
	r := rootOf(g)
	sample := func() ([]*container.Sample, error) {
		if len(ids) == 0 {
			return r.Samples()
		}
		out := make([]*container.Sample, 0, len(ids))
		for _, id := range ids {
			s, err := r.Sample(id)
			if err != nil {
				return nil, opError("stats", id, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	if o.format == "prometheus" {
		ss, err := sample()
		if err != nil {
			return err
		}
		return container.WritePrometheus(g.stdout, ss)
	}
	clear := o.format == "table" && !o.noStream && isTerminal(g.stdout)
	prev := map[string]*container.Sample{}
	first := true
	for {
		ss, err := sample()
		if err != nil {
			return err
		}
		for _, s := range ss {
			s.SetCPUPercent(prev[s.ID])
		}
		// CPU % needs two samples: the first is only shown live.
		if !o.noStream || !first {
			if clear {
				fmt.Fprint(g.stdout, "\033[H\033[2J") // cursor home, clear screen, like top
			}
			var err error
			if o.format == "json" {
				err = writeStatsJSON(g.stdout, ss)
			} else {
				err = writeStatsTable(g.stdout, ss)
			}
			if err != nil || o.noStream {
				return err
			}
		}
		first = false
		prev = map[string]*container.Sample{}
		for _, s := range ss {
			prev[s.ID] = s
		}
		time.Sleep(o.interval)
	}
}

// isTerminal tells whether w is a terminal (TCGETS succeeds).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func writeStatsJSON(w io.Writer, ss []*container.Sample) error {
	enc := json.NewEncoder(w)
	for _, s := range ss {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return nil
}

func writeStatsTable(w io.Writer, ss []*container.Sample) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS\tOOM\tTHROTTLED\tBLOCK I/O")
	for _, s := range ss {
		limit, memPct := "-", "-"
		if s.MemoryLimit > 0 {
			limit = humanBytes(s.MemoryLimit)
			memPct = fmt.Sprintf("%.2f%%", float64(s.MemoryUsage)/float64(s.MemoryLimit)*100)
		}
		pids := fmt.Sprint(s.PidsCurrent)
		if s.PidsLimit > 0 {
			pids += fmt.Sprintf(" / %d", s.PidsLimit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f%%\t%s / %s\t%s\t%s\t%d\t%d / %s\t%s / %s\n",
			s.ID, s.Name, s.Status, s.CPUPercent, humanBytes(s.MemoryUsage), limit, memPct, pids,
			s.OOMKills, s.CPUThrottled, time.Duration(s.CPUThrottledNs).Round(time.Millisecond),
			humanBytes(s.BlockReadBytes), humanBytes(s.BlockWriteBytes))
	}
	return tw.Flush()
}

// humanBytes writes n in binary units as docker stats does: "1.5MiB".
func humanBytes(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%dB", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%ciB", v, units[i])
}
