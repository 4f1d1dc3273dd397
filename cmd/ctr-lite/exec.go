package main

import (
	"errors"
	"flag"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/container"
	"github.com/ctr-lite/ctr-lite/process"
)

// execOpts are exec's flags.
var execOpts struct {
	container.ExecOpts
	processFile string
	user        string
	env, capAdd listFlag
	gids        listFlag
	cgroupPaths listFlag
}

var execCommand = &command{
	name:     "exec",
	runc:     true,
	inOrder:  true, // what follows the ID is the command, its flags its own
	failCode: 255,  // runc: any failure before the process runs
	args:     "[flags] ID [--] [COMMAND [ARG...]]",
	short:    "run a new process in a running container",
	long: `The process joins every namespace of the container, its cgroup, and gets
the container's capabilities, seccomp filter and LSM label. Its settings are
the container's process with the flags applied, or --process FILE (a
process object of config.json) instead.`,
	flags: func(fs *flag.FlagSet) {
		fs.StringVar(&execOpts.processFile, "process", "", "JSON file holding the process to run (config.json's process)")
		fs.StringVar(&execOpts.processFile, "p", "", "shorthand for --process")
		fs.BoolVar(&execOpts.Detach, "detach", false, "return once the process runs")
		fs.BoolVar(&execOpts.Detach, "d", false, "shorthand for --detach")
		fs.BoolVar(&execOpts.Tty, "tty", false, "allocate a pseudo-terminal")
		fs.BoolVar(&execOpts.Tty, "t", false, "shorthand for --tty")
		fs.StringVar(&execOpts.PidFile, "pid-file", "", "write the process's pid to this file")
		fs.StringVar(&execOpts.ConsoleSocket, "console-socket", "", "AF_UNIX socket path that receives the pty master")
		fs.StringVar(&execOpts.Cwd, "cwd", "", "working directory in the container")
		fs.Var(&execOpts.env, "env", "set an environment variable K=V (repeatable)")
		fs.Var(&execOpts.env, "e", "shorthand for --env")
		fs.StringVar(&execOpts.user, "user", "", "UID[:GID] to run as (numbers, 0..2147483647)")
		fs.StringVar(&execOpts.user, "u", "", "shorthand for --user")
		fs.Var(&execOpts.gids, "additional-gids", "add a supplementary group id (repeatable)")
		fs.Var(&execOpts.gids, "g", "shorthand for --additional-gids")
		fs.StringVar(&execOpts.ProcessLabel, "process-label", "", "SELinux label of the process (process.selinuxLabel)")
		fs.StringVar(&execOpts.Apparmor, "apparmor", "", "AppArmor profile of the process (process.apparmorProfile)")
		fs.Var(&execOpts.cgroupPaths, "cgroup", "run in an existing sub-cgroup of the container's: PATH, or CONTROLLER[,CONTROLLER]:PATH on cgroup v1 (repeatable)")
		fs.BoolVar(&execOpts.IgnorePaused, "ignore-paused", false, "exec into a paused container (the process is frozen until resume)")
		fs.Var(&execOpts.capAdd, "cap", "add a capability (repeatable)")
		fs.Var(&execOpts.capAdd, "c", "shorthand for --cap")
		fs.BoolVar(&execOpts.NoNewPrivs, "no-new-privs", false, "set no_new_privs for the process")
		fs.IntVar(&execOpts.PreserveFds, "preserve-fds", 0, "pass fds 3..3+N-1 of this process to the process")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		if len(args) == 0 {
			return usagef("container ID is required")
		}
		execOpts.ID, execOpts.Args = args[0], args[1:]
		// "--" after the ID ends our flags; nobody runs a program
		// named "--".
		if len(execOpts.Args) > 0 && execOpts.Args[0] == "--" {
			execOpts.Args = execOpts.Args[1:]
		}
		execOpts.Env, execOpts.AddCaps, execOpts.SubCgroups = execOpts.env, execOpts.capAdd, execOpts.cgroupPaths
		if execOpts.processFile != "" {
			if len(execOpts.Args) > 0 {
				return opError("exec", execOpts.ID, errors.New("give either --process or a command, not both"))
			}
			p, err := container.ReadProcessFile(execOpts.processFile)
			if err != nil {
				return opError("exec", execOpts.ID, err)
			}
			execOpts.Process = p
		}
		if execOpts.user != "" {
			u, err := parseExecUser(execOpts.user)
			if err != nil {
				return opError("exec", execOpts.ID, err)
			}
			execOpts.User = u
		}
		for _, g := range execOpts.gids {
			gid, err := parseExecID("--additional-gids", g)
			if err != nil {
				return opError("exec", execOpts.ID, err)
			}
			execOpts.AdditionalGids = append(execOpts.AdditionalGids, gid)
		}
		execOpts.Stdin, execOpts.Stdout, execOpts.Stderr = os.Stdin, os.Stdout, os.Stderr
		code, err := rootOf(g).Exec(execOpts.ExecOpts)
		if err != nil {
			return opError("exec", execOpts.ID, err)
		}
		if code != 0 {
			return exitError{code: code}
		}
		return nil
	},
}

// parseExecUser reads runc exec's --user: UID[:GID], numbers in
// 0..2147483647 ((uid_t)-1 would mean "unchanged": root).
func parseExecUser(s string) (*specs.User, error) {
	us, gs, hasGID := strings.Cut(s, ":")
	uid, err := parseExecID("--user "+strconv.Quote(s)+": uid", us)
	if err != nil {
		return nil, err
	}
	u := &specs.User{UID: uid}
	if hasGID {
		if u.GID, err = parseExecID("--user "+strconv.Quote(s)+": gid", gs); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// parseExecID reads one decimal uid or gid in 0..process.MaxID.
func parseExecID(what, s string) (uint32, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errorf("%s %q: not a number", what, s)
	}
	if n < 0 || n > process.MaxID {
		return 0, errorf("%s %d: %w", what, n, process.ErrIDRange)
	}
	return uint32(n), nil
}
