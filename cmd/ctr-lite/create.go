package main

import (
	"flag"
	"os"

	"github.com/ctr-lite/ctr-lite/container"
)

// createOpts are create's flags; createDryRun is create's alone (run
// shares the others).
var (
	createOpts   createFlags
	createDryRun bool
)

var createCommand = &command{
	name:  "create",
	runc:  true,
	args:  "[flags] ID",
	short: "create a container: everything set up, the process waiting for start",
	long: `Reads BUNDLE/config.json and creates the container: namespaces, cgroup,
mounts, capabilities and seccomp are in place and the process waits
(blocked on an exec FIFO) until "ctr-lite start ID".

With --dry-run, checks the bundle and flags as create does and prints the
kernel steps create would take, in order and in --explain's format (the
runtime's, then the container init's, up to execve), without changing
anything: no process, state, cgroup or FIFO is made, and the console
socket is not dialled. Steps that depend on the host at run time (the
child's cgroup join, the sealed binary) are shown as # notes.`,
	flags: func(fs *flag.FlagSet) {
		createOpts.add(fs)
		fs.BoolVar(&createDryRun, "dry-run", false, "check and print the kernel steps of the container, in order, without creating it")
	},
	run: func(g *globals, _ *flag.FlagSet, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		if createDryRun {
			return opError("create", id, rootOf(g).DryRun(createOpts.opts(g, id), g.stdout))
		}
		_, err = rootOf(g).Create(createOpts.opts(g, id))
		return opError("create", id, err)
	},
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
	bundle := c.bundle
	if d, err := container.BundleDir(c.bundle); err == nil {
		bundle = d // the state's "bundle" as runc names it
	}
	o := container.CreateOpts{ID: id, Bundle: bundle, PidFile: c.pidFile, ConsoleSocket: c.consoleSocket,
		NoPivot: c.noPivot, NoNewKeyring: c.noNewKeyring, PreserveFds: c.preserveFds, SystemdCgroup: g.systemd,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	// Validated in main: auto is true when not root or in a user
	// namespace (podman's rootless runtime runs as root in its own).
	o.RootlessCgroups, _ = parseRootless(g.rootless)
	return o
}
