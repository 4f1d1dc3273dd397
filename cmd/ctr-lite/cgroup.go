package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/container"
	"github.com/ctr-lite/ctr-lite/program"
	"github.com/ctr-lite/ctr-lite/step"
)

var cgroupCommand = &command{
	name:  "cgroup",
	args:  "SUBCOMMAND [flags] ...",
	short: "create, limit, freeze, inspect and delete a cgroup",
	long: `Subcommands (PATH as runc's cgroupsPath: /a/b from each hierarchy's root,
a/b below ctr-lite's own cgroup):
  create PATH [limits]        make the cgroup and write the limits
  set PATH [limits]           change the limits of an existing cgroup
  add PATH PID                move a process (all its threads) in
  freeze PATH | thaw PATH     stop / resume every process in it
  stats PATH [--format json]  usage counters (json: runc events --stats "data")
  show PATH                   the limit files and what the kernel holds
  delete PATH [--kill]        remove it everywhere (--kill: SIGKILL what is in it)
  run PATH [limits] -- CMD    create, set, start CMD inside (fork+exec: the
                              child is moved in, stopped at exec), wait for it,
                              delete the cgroup (killing what CMD left in it),
                              and exit with CMD's status
  mode                        v1, v2 or hybrid, and each hierarchy's controllers

Limits (create, set, run):
  --memory SIZE --memory-swap SIZE (memory+swap) --memory-reservation SIZE
      SIZE is bytes with k/m/g suffix, or -1/max for no limit
  --pids-limit N   --cpu-shares N   --cpu-weight N (v2)   --cpu-quota US
  --cpu-period US  --cpuset-cpus LIST  --cpuset-mems LIST
  --blkio-weight N --blkio-weight-device MAJ:MIN=N   --hugetlb SIZE=LIMIT (2MB=64m)
  --device-allow RULE --device-deny RULE  ("c 1:3 rwm"; in order, later wins;
      unless the first is "a ...", the list starts from allow-all)
  --resources FILE  a specs.LinuxResources JSON (runc update --resources),
      - for stdin; the flags above override it`,
	run: runCgroup,
}

type cgroupSub struct {
	args  string
	flags func(fs *flag.FlagSet, o *cgroupOpts)
	run   func(g *globals, o *cgroupOpts, args []string) error
}

// cgroupOpts are every subcommand's flags.
type cgroupOpts struct {
	limits  *limitFlags
	format  string
	kill    bool
	command []string // run: after --
}

var cgroupSubs = map[string]cgroupSub{
	"create": {"PATH [limits]", limitsOnly, cgCreate},
	"set":    {"PATH [limits]", limitsOnly, cgSet},
	"add":    {"PATH PID", nil, cgAdd},
	"freeze": {"PATH", nil, func(g *globals, o *cgroupOpts, a []string) error { return cgFreeze(g, a, true) }},
	"thaw":   {"PATH", nil, func(g *globals, o *cgroupOpts, a []string) error { return cgFreeze(g, a, false) }},
	"stats": {"PATH [--format text|json]", func(fs *flag.FlagSet, o *cgroupOpts) {
		fs.StringVar(&o.format, "format", "text", "text or json")
	}, cgStats},
	"show": {"PATH", nil, cgShow},
	"delete": {"PATH [--kill]", func(fs *flag.FlagSet, o *cgroupOpts) {
		fs.BoolVar(&o.kill, "kill", false, "SIGKILL the processes still in it first")
	}, cgDelete},
	"run":  {"PATH [limits] -- CMD [ARG...]", limitsOnly, cgRun},
	"mode": {"", nil, cgMode},
}

func limitsOnly(fs *flag.FlagSet, o *cgroupOpts) { o.limits = newLimitFlags(fs) }

func runCgroup(g *globals, _ *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand")
	}
	sub, ok := cgroupSubs[args[0]]
	if !ok {
		return usagef("unknown subcommand %q", args[0])
	}
	o := &cgroupOpts{}
	rest := args[1:]
	if args[0] == "run" {
		i := indexOf(rest, "--")
		if i < 0 {
			return usagef("run: missing -- CMD")
		}
		rest, o.command = rest[:i], rest[i+1:]
		if len(o.command) == 0 {
			return usagef("run: missing CMD after --")
		}
	}
	pos, help, err := subFlags(g, "cgroup", args[0], sub.args, rest, func(fs *flag.FlagSet) {
		if sub.flags != nil {
			sub.flags(fs, o)
		}
		fs.BoolVar(&g.explain, "explain", g.explain, "print each kernel step as it happens")
	})
	if help || err != nil {
		return err
	}
	return sub.run(g, o, pos)
}

func indexOf(a []string, s string) int {
	for i, v := range a {
		if v == s {
			return i
		}
	}
	return -1
}

func onePath(args []string, more string) (string, error) {
	if len(args) == 0 {
		return "", usagef("missing PATH")
	}
	if more == "" && len(args) > 1 {
		return "", usagef("unexpected argument %q", args[1])
	}
	return args[0], nil
}

func cgCreate(g *globals, o *cgroupOpts, args []string) error {
	path, err := onePath(args, "")
	if err != nil {
		return err
	}
	res, err := o.limits.resources()
	if err != nil {
		return err
	}
	m, err := cgroups.New(path, res)
	if err != nil {
		return err
	}
	return m.Apply(g.runner("cgroup"), -1)
}

func cgSet(g *globals, o *cgroupOpts, args []string) error {
	path, err := onePath(args, "")
	if err != nil {
		return err
	}
	res, err := o.limits.resources()
	if err != nil {
		return err
	}
	m, err := cgroups.New(path, nil)
	if err != nil {
		return err
	}
	steps, err := m.UpdateSteps(res)
	if err != nil {
		return err
	}
	return g.runner("cgroup").Run(steps...)
}

func cgAdd(g *globals, _ *cgroupOpts, args []string) error {
	if len(args) != 2 {
		return usagef("add: want PATH PID")
	}
	pid, err := strconv.Atoi(args[1])
	if err != nil {
		return usagef("add: PID %q is not a number", args[1])
	}
	m, err := cgroups.New(args[0], nil)
	if err != nil {
		return err
	}
	return g.runner("cgroup").Run(m.AddStep(pid))
}

func cgFreeze(g *globals, args []string, freeze bool) error {
	path, err := onePath(args, "")
	if err != nil {
		return err
	}
	m, err := cgroups.New(path, nil)
	if err != nil {
		return err
	}
	return g.runner("cgroup").Run(m.FreezeStep(freeze))
}

func cgStats(g *globals, o *cgroupOpts, args []string) error {
	path, err := onePath(args, "")
	if err != nil {
		return err
	}
	if o.format != "text" && o.format != "json" {
		return usagef("stats: --format %q: want text or json", o.format)
	}
	m, err := cgroups.New(path, nil)
	if err != nil {
		return err
	}
	s, err := m.Stats()
	if err != nil {
		return err
	}
	if o.format == "json" {
		e := json.NewEncoder(g.stdout)
		e.SetIndent("", "  ")
		return e.Encode(s)
	}
	w := g.stdout
	fmt.Fprintf(w, "memory: usage %d bytes, max usage %d, limit %d, failcnt %d\n",
		s.Memory.Usage.Usage, s.Memory.Usage.Max, s.Memory.Usage.Limit, s.Memory.Usage.Failcnt)
	fmt.Fprintf(w, "pids: current %d, limit %d (0: none)\n", s.Pids.Current, s.Pids.Limit)
	fmt.Fprintf(w, "cpu: total %d ns, user %d ns, kernel %d ns, throttled %d of %d periods\n",
		s.CPU.Usage.Total, s.CPU.Usage.User, s.CPU.Usage.Kernel, s.CPU.Throttling.ThrottledPeriods, s.CPU.Throttling.Periods)
	for size, h := range s.Hugetlb {
		fmt.Fprintf(w, "hugetlb %s: usage %d, max %d, failcnt %d\n", size, h.Usage, h.Max, h.Failcnt)
	}
	return nil
}

func cgShow(g *globals, _ *cgroupOpts, args []string) error {
	path, err := onePath(args, "")
	if err != nil {
		return err
	}
	m, err := cgroups.New(path, nil)
	if err != nil {
		return err
	}
	fv, err := m.Show()
	if err != nil {
		return err
	}
	for _, f := range fv {
		fmt.Fprintln(g.stdout, f)
	}
	return nil
}

func cgDelete(g *globals, o *cgroupOpts, args []string) error {
	path, err := onePath(args, "")
	if err != nil {
		return err
	}
	m, err := cgroups.New(path, nil)
	if err != nil {
		return err
	}
	return g.runner("cgroup").Run(m.DeleteSteps(o.kill)...)
}

func cgMode(g *globals, _ *cgroupOpts, args []string) error {
	if len(args) != 0 {
		return usagef("mode: unexpected argument %q", args[0])
	}
	hs, err := cgroups.Hierarchies()
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "mode: %s\n", cgroups.HostMode())
	for _, h := range hs {
		fmt.Fprintf(g.stdout, "v%d %s: %s\n", h.Version, h.Mountpoint, strings.Join(h.Controllers, " "))
	}
	return nil
}

// cgRun creates the cgroup, starts CMD in it, waits, and deletes it.
func cgRun(g *globals, o *cgroupOpts, args []string) error {
	path, err := onePath(args, "")
	if err != nil {
		return err
	}
	res, err := o.limits.resources()
	if err != nil {
		return err
	}
	m, err := cgroups.New(path, res)
	if err != nil {
		return err
	}
	r := g.runner("cgroup")
	if err := m.Apply(r, -1); err != nil {
		return err
	}
	status, runErr := runIn(m, r, o.command, g)
	delErr := r.Run(m.DeleteSteps(true)...)
	if runErr != nil {
		return errors.Join(runErr, delErr)
	}
	if delErr != nil {
		return delErr
	}
	if status != 0 {
		return exitError{code: status}
	}
	return nil
}

// runIn starts argv in m's cgroup, forwards container.ForwardedSignals to it
// and returns its exit status (128+N if signal N killed it).
func runIn(m *cgroups.Manager, r *step.Runner, argv []string, g *globals) (int, error) {
	cmd := program.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, g.stdout, g.stderr
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, container.ForwardedSignals...)
	defer signal.Stop(sigs)
	if err := m.Start(r, cmd); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			var ee *program.ExitError
			if errors.As(err, &ee) {
				return container.ExitCode(ee.ProcessState), nil
			}
			return 0, err
		}
	}
}

// limitFlags are the limit flags of create, set and run.
type limitFlags struct {
	fs         *flag.FlagSet
	file       string
	devices    []specs.LinuxDeviceCgroup
	hugetlb    []specs.LinuxHugepageLimit
	weightDevs []specs.LinuxWeightDevice
}

func newLimitFlags(fs *flag.FlagSet) *limitFlags {
	l := &limitFlags{fs: fs}
	for _, n := range cgroups.LimitNames {
		fs.String(n, "", "see ctr-lite cgroup --help")
	}
	fs.Func("hugetlb", "SIZE=LIMIT, e.g. 2MB=64m (repeatable)", func(s string) error {
		h, err := cgroups.ParseHugetlb(s)
		l.hugetlb = append(l.hugetlb, h)
		return err
	})
	fs.Func("blkio-weight-device", "MAJOR:MINOR=WEIGHT (repeatable)", func(s string) error {
		d, err := cgroups.ParseWeightDevice(s)
		l.weightDevs = append(l.weightDevs, d)
		return err
	})
	dev := func(allow bool) func(string) error {
		return func(s string) error {
			d, err := cgroups.ParseDeviceRule(allow, s)
			if err != nil {
				return err
			}
			l.devices = append(l.devices, d)
			return nil
		}
	}
	fs.Func("device-allow", `device rule "TYPE MAJOR:MINOR ACCESS" to allow (repeatable)`, dev(true))
	fs.Func("device-deny", `device rule "TYPE MAJOR:MINOR ACCESS" to deny (repeatable)`, dev(false))
	fs.StringVar(&l.file, "resources", "", "specs.LinuxResources JSON file (- for stdin)")
	return l
}

// resources builds the LinuxResources: the --resources file, then the
// flags on top.
func (l *limitFlags) resources() (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if l.file != "" {
		var data []byte
		var err error
		if l.file == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(l.file)
		}
		if err != nil {
			return nil, errorf("--resources: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(r); err != nil {
			return nil, errorf("--resources %s: malformed specs.LinuxResources JSON: %w", l.file, err)
		}
	}
	var err error
	l.fs.Visit(func(f *flag.Flag) {
		if err == nil && slices.Contains(cgroups.LimitNames, f.Name) {
			err = setLimit(r, f.Name, f.Value.String())
		}
	})
	if err != nil {
		return nil, err
	}
	if len(l.hugetlb) > 0 {
		r.HugepageLimits = l.hugetlb
	}
	if len(l.weightDevs) > 0 {
		if r.BlockIO == nil {
			r.BlockIO = &specs.LinuxBlockIO{}
		}
		r.BlockIO.WeightDevice = l.weightDevs
	}
	if len(l.devices) > 0 {
		if l.devices[0].Type != "a" {
			// Start from allow-all, like a new v1 cgroup under an
			// unrestricted parent: --device-deny alone denies only that.
			r.Devices = append(r.Devices, specs.LinuxDeviceCgroup{Allow: true, Access: "rwm"})
		}
		r.Devices = append(r.Devices, l.devices...)
	}
	return r, nil
}

// setLimit is cgroups.SetLimit with a mistake in a value as a usage
// error naming the flag ("--memory: ...").
func setLimit(r *specs.LinuxResources, name, v string) error {
	if err := cgroups.SetLimit(r, name, v); err != nil {
		return usagef("--%v", err)
	}
	return nil
}
