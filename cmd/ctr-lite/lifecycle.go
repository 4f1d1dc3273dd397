package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ctr-lite/ctr-lite/container"
)

// oneID returns the single container ID argument.
func oneID(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("container ID is required")
	case 1:
		return args[0], nil
	default:
		return "", usagef("expected one container ID, got %d arguments", len(args))
	}
}

// opError prefixes an error with the operation and the container:
// `create "web": ...`.
func opError(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, container.ErrNotExist) {
		return fmt.Errorf("%s %q: container does not exist", op, id)
	}
	if errors.Is(err, container.ErrExist) {
		return fmt.Errorf("%s %q: container with this ID already exists", op, id)
	}
	return fmt.Errorf("%s %q: %w", op, id, err)
}

func rootOf(g *globals) container.Root {
	return container.Root{Dir: g.root, Warn: g.log.Warnf}
}

type createFlags struct {
	bundle, pidFile, consoleSocket string
	noPivot, noNewKeyring          bool
	preserveFds                    int
}

func (c *createFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&c.bundle, "bundle", ".", "path to the bundle (the directory holding config.json)")
	fs.StringVar(&c.bundle, "b", ".", "shorthand for --bundle")
	fs.StringVar(&c.pidFile, "pid-file", "", "write the container's init pid to this file")
	fs.StringVar(&c.consoleSocket, "console-socket", "", "AF_UNIX socket path that receives the pty master (process.terminal)")
	fs.BoolVar(&c.noPivot, "no-pivot", false, "use MS_MOVE and chroot instead of pivot_root (a rootfs on the initramfs)")
	fs.BoolVar(&c.noNewKeyring, "no-new-keyring", false, "keep the session keyring (accepted; no keyring is created)")
	fs.IntVar(&c.preserveFds, "preserve-fds", 0, "pass fds 3..3+N-1 of this process to the container")
}

func (c *createFlags) opts(g *globals, id string) container.CreateOpts {
	o := container.CreateOpts{ID: id, Bundle: c.bundle, PidFile: c.pidFile, ConsoleSocket: c.consoleSocket,
		NoPivot: c.noPivot, NoNewKeyring: c.noNewKeyring, PreserveFds: c.preserveFds, SystemdCgroup: g.systemd,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if g.explain {
		o.Explain = g.stderr
	}
	return o
}

func init() {
	var cf createFlags
	register(&command{
		name:  "create",
		runc:  true,
		args:  "[flags] ID",
		short: "create a container: everything set up, the process waiting for start",
		long: `Reads BUNDLE/config.json and creates the container: namespaces, cgroup,
mounts, capabilities and seccomp are in place and the process waits
(blocked on an exec FIFO) until "ctr-lite start ID".`,
		flags: cf.add,
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			_, err = rootOf(g).Create(cf.opts(g, id))
			return opError("create", id, err)
		},
	})
	register(&command{
		name:  "start",
		runc:  true,
		args:  "ID",
		short: "start the process of a created container",
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			return opError("start", id, rootOf(g).Start(id))
		},
	})
	var format string
	register(&command{
		name:  "state",
		runc:  true,
		args:  "ID",
		short: "print the container's state as JSON (runtime.md \"State\")",
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			rep, err := rootOf(g).Describe(id)
			if err != nil {
				return opError("state", id, err)
			}
			data, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s\n", data)
			return nil
		},
	})
	var quiet bool
	register(&command{
		name:  "list",
		runc:  true,
		args:  "[flags]",
		short: "list the containers under --root",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&format, "format", "table", "table or json")
			fs.StringVar(&format, "f", "table", "shorthand for --format")
			fs.BoolVar(&quiet, "quiet", false, "print only the IDs")
			fs.BoolVar(&quiet, "q", false, "shorthand for --quiet")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			if len(args) > 0 {
				return usagef("list takes no arguments")
			}
			if format != "table" && format != "json" {
				return usagef("--format %q: must be table or json", format)
			}
			reps, err := rootOf(g).List()
			if err != nil {
				return fmt.Errorf("list: %w", err)
			}
			return printList(g, reps, format, quiet)
		},
	})
}

func printList(g *globals, reps []*container.Report, format string, quiet bool) error {
	if quiet {
		for _, r := range reps {
			fmt.Fprintln(g.stdout, r.ID)
		}
		return nil
	}
	if format == "json" {
		if reps == nil {
			reps = []*container.Report{}
		}
		return json.NewEncoder(g.stdout).Encode(reps)
	}
	w := tabwriter.NewWriter(g.stdout, 12, 1, 3, ' ', 0)
	fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
	for _, r := range reps {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.Pid, r.Status, r.Bundle,
			r.Created.Format(time.RFC3339Nano), r.Owner)
	}
	return w.Flush()
}

func init() {
	var all bool
	register(&command{
		name:  "kill",
		runc:  true,
		args:  "[flags] ID [SIGNAL]",
		short: "send a signal to the container's init (default SIGTERM)",
		long: `SIGNAL is a name with or without SIG (TERM, SIGKILL), a number (15), or
RTMIN+N / RTMAX-N.`,
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&all, "all", false, "send the signal to every process in the container's cgroup")
			fs.BoolVar(&all, "a", false, "shorthand for --all")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return usagef("expected ID [SIGNAL]")
			}
			id, name := args[0], "SIGTERM"
			if len(args) == 2 {
				name = args[1]
			}
			sig, err := container.ParseSignal(name)
			if err != nil {
				return opError("kill", id, err)
			}
			return opError("kill", id, rootOf(g).Kill(id, sig, all))
		},
	})
	var force bool
	register(&command{
		name:  "delete",
		runc:  true,
		args:  "[flags] ID",
		short: "delete a stopped container (its cgroup and state), then the poststop hooks",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&force, "force", false, "kill the container first if it runs; no error if it does not exist")
			fs.BoolVar(&force, "f", false, "shorthand for --force")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			var explain *os.File
			if g.explain {
				explain = os.Stderr
			}
			err = rootOf(g).Delete(id, force, explainWriter(explain))
			if errors.Is(err, container.ErrNotExist) && force {
				return nil
			}
			return opError("delete", id, err)
		},
	})
	var rootless bool
	var bundle string
	register(&command{
		name:  "spec",
		runc:  true,
		args:  "[flags]",
		short: "write a default config.json (runc's defaults) in the bundle",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&rootless, "rootless", false, "a spec for an unprivileged user (a user namespace)")
			fs.StringVar(&bundle, "bundle", ".", "directory to write config.json in")
			fs.StringVar(&bundle, "b", ".", "shorthand for --bundle")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			if len(args) > 0 {
				return usagef("spec takes no arguments")
			}
			s := container.DefaultSpec()
			if rootless {
				container.Rootless(s, uint32(os.Geteuid()), uint32(os.Getegid()))
			}
			data, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				return err
			}
			path := bundle + "/config.json"
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				if errors.Is(err, os.ErrExist) {
					return fmt.Errorf("spec: %s exists: remove it first", path)
				}
				return fmt.Errorf("spec: %w", err)
			}
			defer f.Close()
			if _, err := f.Write(append(data, '\n')); err != nil {
				return fmt.Errorf("spec: write %s: %w", path, err)
			}
			return nil
		},
	})
}

// explainWriter turns a nil *os.File into a nil io.Writer (not a non-nil
// interface holding nil).
func explainWriter(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	return f
}

func init() {
	var cf createFlags
	var detach, keep, noSubreaper bool
	register(&command{
		name:  "run",
		runc:  true,
		args:  "[flags] ID",
		short: "create and start a container; in the foreground, wait and return its exit status",
		long: `In the foreground, run forwards signals to the container, proxies its
terminal when process.terminal is set and no --console-socket is given,
returns its exit status (128+N if signal N killed it) and deletes it
unless --keep.`,
		flags: func(fs *flag.FlagSet) {
			cf.add(fs)
			fs.BoolVar(&detach, "detach", false, "return once the container runs")
			fs.BoolVar(&detach, "d", false, "shorthand for --detach")
			fs.BoolVar(&keep, "keep", false, "keep the container's state after it exits")
			fs.BoolVar(&noSubreaper, "no-subreaper", false, "do not become the subreaper of the container's orphaned processes")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			code, err := rootOf(g).Run(container.RunOpts{CreateOpts: cf.opts(g, id), Detach: detach, Keep: keep, NoSubreaper: noSubreaper})
			if err != nil {
				return opError("run", id, err)
			}
			if code != 0 {
				return exitError{code: code}
			}
			return nil
		},
	})
}
