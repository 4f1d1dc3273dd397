// The Go runtime (1.25 on) re-reads the cgroup CPU quota every second to
// update GOMAXPROCS, from a goroutine it starts before main: one more
// goroutine (and often one more thread) in every command and in every
// container's init (the same binary), for processes that live
// milliseconds. runc's Go never did it.
//
//go:debug updatemaxprocs=0

// Command ctr-lite is a small OCI container runtime and a toolkit that runs
// each kernel feature a container is built from on its own.
//
// This package is the CLI only: flags and wiring. The kernel work lives in
// the packages it imports.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/step"
)

// globals are runc's global flags; they come before the subcommand.
type globals struct {
	root      string
	logPath   string
	logFormat string
	debug     bool
	explain   bool
	systemd   bool
	rootless  string // runc's --rootless: auto, true or false
	criu      string // runc's --criu: path of the criu binary
	log       *logger
	stdout    io.Writer
	stderr    io.Writer
}

// explainOut is where --explain lines go, or nil.
func (g *globals) explainOut() io.Writer {
	if g.explain {
		return g.stderr
	}
	return nil
}

// runner runs a command's steps, explaining each under --explain, its
// lines tagged prefix ("explain[cgroup]: ...").
func (g *globals) runner(prefix string) *step.Runner {
	return &step.Runner{Explain: g.explainOut(), Prefix: prefix}
}

// command is one subcommand, declared in the file named after it
// (killCommand in kill.go) and listed in commands.
type command struct {
	name  string
	args  string // usage after the flags, e.g. "[flags] -- CMD [ARG...]"
	short string
	long  string
	// flags declares the command's flags on fs; run receives what is left.
	flags func(fs *flag.FlagSet)
	run   func(g *globals, fs *flag.FlagSet, args []string) error
	// hidden commands are not listed in --help (the container's init).
	hidden bool
	// runc marks one of runc's commands: a mistake in how it was called
	// exits 1 as runc's does (fatal), not 2, and, unless inOrder, its
	// flags may come after its arguments (runc's CLI library moves them
	// in front: `delete ID --force`).
	runc bool
	// inOrder: flags stop at the first argument, as runc's exec and ps
	// (SkipArgReorder): what follows the ID is a command and its flags.
	inOrder bool
	// interspersed: flags may come after the arguments (as runc's
	// commands) for a command of ctr-lite's own (`stats ID --no-stream`).
	interspersed bool
	// failCode is the exit status of a failure (runc's exec: 255); 0
	// means 1.
	failCode int
}

// commands are every subcommand: runc's (in runc's order), then
// ctr-lite's primitives and tools. --help lists them sorted by name.
var commands = []*command{
	checkpointCommand,
	createCommand,
	deleteCommand,
	eventsCommand,
	execCommand,
	initCommand,
	killCommand,
	listCommand,
	pauseCommand,
	psCommand,
	restoreCommand,
	resumeCommand,
	runCommand,
	specCommand,
	startCommand,
	stateCommand,
	updateCommand,
	featuresCommand,
	// ctr-lite's own: the primitives, then the tools.
	nsCommand,
	rootfsCommand,
	capsCommand,
	cgroupCommand,
	seccompCommand,
	processCommand,
	checkCommand,
	statsCommand,
	inspectCommand,
	versionCommand,
}

// lookup is the command named name, or nil.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// exitError carries an exit status without a message (a child's status).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	// Most invocations live a few milliseconds and allocate a few
	// megabytes: a garbage collection only costs time (measured here:
	// cycles in the middle of create). The collector runs only if the
	// heap nears the limit, which a long foreground run or events would
	// need to reach.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20)
	os.Exit(mainExit(os.Args[1:], os.Stdout, os.Stderr))
}

func mainExit(argv []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("ctr-lite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root, xdgRoot := defaultRoot()
	fs.StringVar(&g.root, "root", root, "root directory for container state")
	fs.StringVar(&g.logPath, "log", "", "append log lines to this file (default: stderr)")
	fs.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&g.debug, "debug", false, "log debug messages")
	fs.BoolVar(&g.explain, "explain", false, "print each kernel step as it happens (also a flag of every command)")
	fs.BoolVar(&g.systemd, "systemd-cgroup", false, "read linux.cgroupsPath as slice:prefix:name (made with cgroupfs where systemd does not run)")
	fs.StringVar(&g.rootless, "rootless", "auto", "runc's rootless mode: true, false or auto (validated; ctr-lite runs as root)")
	fs.StringVar(&g.criu, "criu", "criu", "path of the criu binary (checkpoint and restore are not supported)")
	version := fs.Bool("version", false, "print the version")
	fs.BoolVar(version, "v", false, "print the version (shorthand)")
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stderr, fs)
			return 0
		}
		// runc: a bad global flag is a usage error, exit 1.
		fmt.Fprintf(stderr, "ctr-lite: %v\n", err)
		usage(stderr, fs)
		return 1
	}
	if *version {
		printVersion(stdout)
		return 0
	}
	log, err := newLogger(g.logPath, g.logFormat, g.debug, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ctr-lite: %v\n", err)
		return 1
	}
	if err := checkRootless(g.rootless); err != nil {
		log.Errorf("%v", err)
		log.Close()
		return 1
	}
	defer log.Close()
	g.log = log
	if xdgRoot { // made even when --root names another, as runc does
		// runc: anything made in XDG_RUNTIME_DIR is sticky (the XDG
		// base directory spec: not removed by the periodic clean-up).
		if err := os.MkdirAll(root, 0o700); err != nil {
			log.Errorf("make --root %s: %v", root, err)
			return 1
		}
		if err := os.Chmod(root, 0o700|os.ModeSticky); err != nil {
			log.Errorf("make --root %s sticky: %v", root, err)
			return 1
		}
	}

	args := fs.Args()
	if len(args) == 0 {
		// runc without a command shows its help.
		usage(stderr, fs)
		return 0
	}
	c := lookup(args[0])
	if c == nil {
		// runc's CLI library: "No help topic for ...", exit 3.
		log.Errorf("unknown command %q (see ctr-lite --help)", args[0])
		return 3
	}
	return dispatch(g, c, args[1:], stderr)
}

func dispatch(g *globals, c *command, args []string, stderr io.Writer) int {
	// --debug: what a client asked of us, the first thing to look at
	// when conmon or a shim reports a failure.
	g.log.Debugf("%s %s", c.name, strings.Join(args, " "))
	fs := flag.NewFlagSet("ctr-lite "+c.name, flag.ContinueOnError)
	// The flag package would print the error and the usage itself; we
	// print both once, error first, through the logger (--log-format
	// json gets a JSON line).
	fs.SetOutput(io.Discard)
	printUsage := func() {
		fmt.Fprintf(stderr, "Usage: ctr-lite %s %s\n\n%s\n", c.name, c.args, c.short)
		if c.long != "" {
			fmt.Fprintf(stderr, "\n%s\n", strings.TrimSpace(c.long))
		}
		fmt.Fprintf(stderr, "\nFlags:\n")
		printDefaults(stderr, fs)
	}
	fs.Usage = func() {}
	if c.flags != nil {
		c.flags(fs)
	}
	if fs.Lookup("explain") == nil {
		fs.BoolVar(&g.explain, "explain", g.explain, "print each kernel step as it happens")
	}
	usageCode := 2
	if c.runc {
		usageCode = 1 // runc: fatal(err)
	}
	var rest []string
	var err error
	if c.runc && !c.inOrder || c.interspersed {
		rest, err = parseInterspersed(fs, args)
	} else {
		err = fs.Parse(args)
		rest = fs.Args()
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage()
			return 0
		}
		g.log.Errorf("%s: %v", c.name, err)
		printUsage()
		return usageCode
	}
	err = c.run(g, fs, rest)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		g.log.Errorf("%s: %s (see ctr-lite %s --help)", c.name, ue.msg, c.name)
		return usageCode
	}
	g.log.Errorf("%s", err)
	if c.failCode != 0 {
		return c.failCode
	}
	return 1
}

// parseInterspersed parses args the way runc's CLI library does for its
// commands: flags may come before or after the arguments
// (`delete ID --force`, `update ID --memory 64M`); "--" ends the flags,
// everything after it is an argument. It returns the arguments in order.
// A flag that takes a value takes the next word whatever it is (Go's
// flag package does the same); a word that looks like a negative number
// and is no flag is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		f := fs.Lookup(name)
		if f == nil {
			if _, err := strconv.ParseInt(name, 10, 64); err == nil {
				rest = append(rest, a)
				continue
			}
		}
		flags = append(flags, a)
		if f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	// fs.Parse stops early only at a word that is not a flag, which
	// cannot be in flags: every word was a flag or a flag's value.
	return append(fs.Args(), rest...), nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// defaultRoot is runc 1.1's default --root: $XDG_RUNTIME_DIR/ctr-lite for
// a user who is not root (or root in a user namespace whose $USER is not
// "root"), else /run/ctr-lite. xdg says the first was chosen.
func defaultRoot() (root string, xdg bool) {
	x := os.Getenv("XDG_RUNTIME_DIR")
	if x == "" {
		return "/run/ctr-lite", false
	}
	if os.Geteuid() == 0 {
		if !procfs.InUserNS() {
			return "/run/ctr-lite", false
		}
		if u, ok := os.LookupEnv("USER"); ok && u == "root" {
			return "/run/ctr-lite", false
		}
	}
	return filepath.Join(x, "ctr-lite"), true
}

// parseRootless reads runc's global --rootless: "auto" (the default) is
// true when ctr-lite is not root or runs in a user namespace.
func parseRootless(v string) (bool, error) {
	if err := checkRootless(v); err != nil {
		return false, err
	}
	if v == "auto" {
		return os.Geteuid() != 0 || procfs.InUserNS(), nil
	}
	return v == "true", nil
}

// checkRootless validates --rootless for every command; only the ones
// that use it (create) read /proc/self/uid_map for "auto" (parseRootless).
func checkRootless(v string) error {
	switch v {
	case "true", "false", "auto":
		return nil
	}
	return errorf("--rootless %q: must be true, false or auto", v)
}

// usageError is a mistake in how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: ctr-lite [global flags] COMMAND [flags] [args]\n\n")
	fmt.Fprintf(w, "ctr-lite is a small OCI container runtime, and a toolkit that runs each\n")
	fmt.Fprintf(w, "kernel feature a container is made of on its own (--explain shows each step).\n\n")
	fmt.Fprintf(w, "Commands:\n")
	shown := make([]*command, 0, len(commands))
	for _, c := range commands {
		if !c.hidden {
			shown = append(shown, c)
		}
	}
	// slices.SortFunc of pointers, not sort.Slice: the binary has that
	// sort already (flag's), sort.Slice's swapper and sort are 12 KiB more.
	slices.SortFunc(shown, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	for _, c := range shown {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\nGlobal flags:\n")
	printDefaults(w, fs)
}

// printDefaults prints flags runc-style: --name (two dashes).
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, u := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if name != "" {
			line += " " + name
		}
		line += "\n    \t" + strings.ReplaceAll(u, "\n", "\n    \t")
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			line += fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintln(w, line)
	})
}
