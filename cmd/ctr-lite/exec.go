package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/container"
)

func init() {
	var (
		o           container.ExecOpts
		processFile string
		user        string
		env, capAdd listFlag
	)
	register(&command{
		name:  "exec",
		args:  "[flags] ID [COMMAND [ARG...]]",
		short: "run a new process in a running container",
		long: `The process joins every namespace of the container, its cgroup, and gets
the container's capabilities, seccomp filter and LSM label. Its settings are
the container's process with the flags applied, or --process FILE (a
process object of config.json) instead.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&processFile, "process", "", "JSON file holding the process to run (config.json's process)")
			fs.StringVar(&processFile, "p", "", "shorthand for --process")
			fs.BoolVar(&o.Detach, "detach", false, "return once the process runs")
			fs.BoolVar(&o.Detach, "d", false, "shorthand for --detach")
			fs.BoolVar(&o.Tty, "tty", false, "allocate a pseudo-terminal")
			fs.BoolVar(&o.Tty, "t", false, "shorthand for --tty")
			fs.StringVar(&o.PidFile, "pid-file", "", "write the process's pid to this file")
			fs.StringVar(&o.ConsoleSocket, "console-socket", "", "AF_UNIX socket path that receives the pty master")
			fs.StringVar(&o.Cwd, "cwd", "", "working directory in the container")
			fs.Var(&env, "env", "set an environment variable K=V (repeatable)")
			fs.Var(&env, "e", "shorthand for --env")
			fs.StringVar(&user, "user", "", "UID[:GID] to run as")
			fs.StringVar(&user, "u", "", "shorthand for --user")
			fs.Var(&capAdd, "cap", "add a capability (repeatable)")
			fs.Var(&capAdd, "c", "shorthand for --cap")
			fs.BoolVar(&o.NoNewPrivs, "no-new-privs", false, "set no_new_privs for the process")
			fs.IntVar(&o.PreserveFds, "preserve-fds", 0, "pass fds 3..3+N-1 of this process to the process")
		},
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			if len(args) == 0 {
				return usagef("container ID is required")
			}
			o.ID, o.Args = args[0], args[1:]
			o.Env, o.AddCaps = env, capAdd
			if processFile != "" {
				if len(o.Args) > 0 {
					return usagef("give either --process or a command, not both")
				}
				p, err := container.ReadProcessFile(processFile)
				if err != nil {
					return opError("exec", o.ID, err)
				}
				o.Process = p
			}
			if user != "" {
				u, err := parseExecUser(user)
				if err != nil {
					return usagef("%v", err)
				}
				o.User = u
			}
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
			if g.explain {
				o.Explain = g.stderr
			}
			code, err := rootOf(g).Exec(o)
			if err != nil {
				return opError("exec", o.ID, err)
			}
			if code != 0 {
				return exitError{code: code}
			}
			return nil
		},
	})
}

// parseExecUser reads runc exec's --user: UID[:GID], numbers.
func parseExecUser(s string) (*specs.User, error) {
	us, gs, hasGID := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("--user %q: want UID[:GID] as numbers", s)
	}
	u := &specs.User{UID: uint32(uid)}
	if hasGID {
		gid, err := strconv.ParseUint(gs, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: want UID[:GID] as numbers", s)
		}
		u.GID = uint32(gid)
	}
	return u, nil
}
