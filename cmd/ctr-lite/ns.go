package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ctr-lite/ctr-lite/container"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/process"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsOptions are the flags of "ctr-lite ns".
type nsOptions struct {
	newKinds listFlag
	joins    listFlag
	uidMaps  listFlag
	gidMaps  listFlag
	hostname string
	format   string
}

// unshareFlags are unshare(1)'s long flags, each a namespace kind.
var unshareFlags = []struct{ flag, kind string }{
	{"mount", "mnt"}, {"uts", "uts"}, {"ipc", "ipc"}, {"net", "net"},
	{"pid", "pid"}, {"user", "user"}, {"cgroup", "cgroup"}, {"time", "time"},
}

// nsKindFlag is a boolean flag that adds kind to a --new list when set.
type nsKindFlag struct {
	list *listFlag
	kind string
}

func (f nsKindFlag) IsBoolFlag() bool { return true }
func (f nsKindFlag) String() string   { return "" }
func (f nsKindFlag) Set(v string) error {
	on, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	// --user with --map-root-user (or --new user) is one namespace.
	if on && !slices.Contains(*f.list, f.kind) {
		*f.list = append(*f.list, f.kind)
	}
	return nil
}

// noopBool is a boolean flag that changes nothing (unshare's --fork: the
// command is always forked here).
type noopBool struct{}

func (noopBool) IsBoolFlag() bool { return true }
func (noopBool) String() string   { return "" }
func (noopBool) Set(v string) error {
	_, err := strconv.ParseBool(v)
	return err
}

// nsOpts are ns's flags.
var nsOpts = &nsOptions{}

var nsCommand = &command{
	name:  "ns",
	args:  "[flags] -- CMD [ARG...]  |  ns show [--format json] PID",
	short: "run a command in new or joined namespaces; show a process's namespaces",
	long: `Runs CMD in the namespaces given, like unshare(1) and nsenter(1) together,
and exits with its status (128+N if a signal N killed it). SIGINT, SIGTERM,
SIGHUP, SIGQUIT, SIGUSR1/2 and SIGWINCH are forwarded to it. With a new pid
namespace CMD is PID 1 there (which ignores signals it has no handler for).
Kinds: mnt uts ipc pid net user cgroup time (or the OCI names mount, network).

  ctr-lite ns --new uts,pid --hostname box -- /bin/sh
  ctr-lite ns --uts --pid --fork -- /bin/sh          (unshare(1)'s flags)
  ctr-lite ns --join net=/proc/1234/ns/net -- ip addr
  ctr-lite ns --new user --uid-map 0:100000:65536 --gid-map 0:100000:65536 -- id
  ctr-lite ns show 1234`,
	flags: func(fs *flag.FlagSet) {
		fs.Var(&nsOpts.newKinds, "new", "comma-separated kinds of namespace to create (repeatable)")
		fs.Var(&nsOpts.joins, "join", "KIND=PATH: join the namespace of a file such as /proc/PID/ns/net (repeatable)")
		fs.Var(&nsOpts.uidMaps, "uid-map", "INSIDE:OUTSIDE:COUNT uid range of a new user namespace (repeatable; default 0:<your uid>:1)")
		fs.Var(&nsOpts.gidMaps, "gid-map", "INSIDE:OUTSIDE:COUNT gid range of a new user namespace (repeatable; default 0:<your gid>:1)")
		fs.StringVar(&nsOpts.hostname, "hostname", "", "hostname in the new uts namespace")
		fs.StringVar(&nsOpts.format, "format", "table", "ns show output: table or json")
		// unshare(1)'s own flags, so that what a learner knows
		// from unshare works here: each adds one kind to --new.
		for _, u := range unshareFlags {
			fs.Var(nsKindFlag{&nsOpts.newKinds, u.kind}, u.flag, "new "+u.kind+" namespace, as unshare --"+u.flag+" (same as --new "+u.kind+")")
		}
		fs.Var(nsKindFlag{&nsOpts.newKinds, "user"}, "map-root-user", "new user namespace with the caller's uid and gid mapped to 0, as unshare --map-root-user (the default maps of --new user)")
		fs.Var(noopBool{}, "fork", "accepted for unshare(1): CMD always runs as a child here")
	},
	run: nsOpts.run,
}

func (o *nsOptions) run(g *globals, fs *flag.FlagSet, args []string) error {
	if len(args) > 0 && args[0] == "show" {
		return o.show(g, args[1:])
	}
	if len(args) == 0 {
		return usagef("missing command: ctr-lite ns [flags] -- CMD [ARG...]")
	}
	cfg, err := o.config(args)
	if err != nil {
		return err
	}
	r := g.runner("ns")
	// Catch the signals before the child exists, so none is lost between.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, container.ForwardedSignals...)
	defer signal.Stop(sigs)
	p, err := namespaces.Start(cfg, r)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				p.Signal(s)
			case <-done:
				return
			}
		}
	}()
	st, err := p.Wait()
	if err != nil {
		return errorf("wait for %s (pid %d): %w", cfg.Path, p.Pid, err)
	}
	if code := container.ExitCode(st); code != 0 {
		return exitError{code}
	}
	return nil
}

// config turns the flags into a namespaces.Config.
func (o *nsOptions) config(args []string) (*namespaces.Config, error) {
	cfg := &namespaces.Config{Hostname: o.hostname,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Args: args}
	newUser, newMnt := false, false
	for _, list := range o.newKinds {
		ks, err := namespaces.ParseKinds(list)
		if err != nil {
			return nil, errorf("--new: %w", err)
		}
		for _, k := range ks {
			cfg.Namespaces = append(cfg.Namespaces, specs.LinuxNamespace{Type: k.SpecType()})
			newUser = newUser || k == namespaces.User
			newMnt = newMnt || k == namespaces.Mount
		}
	}
	joinsMnt := false
	for _, j := range o.joins {
		name, path, ok := strings.Cut(j, "=")
		if !ok || path == "" {
			return nil, usagef("--join %q: want KIND=PATH, e.g. net=/proc/1234/ns/net", j)
		}
		k, err := namespaces.ParseKind(name)
		if err != nil {
			return nil, errorf("--join: %w", err)
		}
		joinsMnt = joinsMnt || k == namespaces.Mount
		cfg.Namespaces = append(cfg.Namespaces, specs.LinuxNamespace{Type: k.SpecType(), Path: path})
	}
	var err error
	if cfg.UIDMappings, err = parseMaps("--uid-map", o.uidMaps); err != nil {
		return nil, err
	}
	if cfg.GIDMappings, err = parseMaps("--gid-map", o.gidMaps); err != nil {
		return nil, err
	}
	if newUser {
		uids, gids := namespaces.RootMappings()
		if len(cfg.UIDMappings) == 0 {
			cfg.UIDMappings = uids
		}
		if len(cfg.GIDMappings) == 0 {
			cfg.GIDMappings = gids
		}
	}
	if newMnt {
		// Like unshare(1): mounts made inside stay inside.
		cfg.RootPropagation = unix.MS_REC | unix.MS_PRIVATE
	}
	// execve does not search $PATH: look CMD up here, on the host, unless
	// it is a path (then it is opened in the child, after a mnt join).
	cfg.Path = args[0]
	if !strings.Contains(args[0], "/") || !joinsMnt {
		if cfg.Path, err = process.LookPath(args[0], os.Environ()); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

func parseMaps(flagName string, vals []string) ([]specs.LinuxIDMapping, error) {
	var ms []specs.LinuxIDMapping
	for _, v := range vals {
		m, err := namespaces.ParseIDMapping(v)
		if err != nil {
			return nil, errorf("%s: %w", flagName, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// show prints a process's namespaces: "ns show [--format json] PID".
func (o *nsOptions) show(g *globals, args []string) error {
	rest, help, err := subFlags(g, "ns", "show", "[--format table|json] PID", args, func(fs *flag.FlagSet) {
		fs.StringVar(&o.format, "format", o.format, "table or json")
	})
	if help || err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("show: missing PID")
	}
	pidArg := rest[0]
	if len(rest) > 1 {
		return usagef("show: unexpected %q", rest[1])
	}
	pid, err := strconv.Atoi(pidArg)
	if err != nil || pid <= 0 {
		return usagef("show: PID %q is not a process ID", pidArg)
	}
	if o.format != "table" && o.format != "json" {
		return usagef("show: --format %q: want table or json", o.format)
	}
	infos, err := namespaces.Show(pid)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	if len(infos) > 0 && infos[0].Reference != 1 {
		fmt.Fprintf(g.stderr, "ctr-lite: note: /proc/1/ns is not readable; compared with ctr-lite itself (pid %d)\n", infos[0].Reference)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "KIND\tINODE\tNAMESPACE\n")
	for _, in := range infos {
		where := "own"
		if in.Shared {
			where = fmt.Sprintf("shared with pid %d", in.Reference)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", in.Name, in.Inode, where)
	}
	return tw.Flush()
}
