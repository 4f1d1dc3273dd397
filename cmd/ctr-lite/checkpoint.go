package main

import (
	"flag"
)

var checkpointCommand = criuCommand("checkpoint")

// criuFlags declares checkpoint's flags, or with restore, restore's.
func criuFlags(fs *flag.FlagSet, restore bool) {
	fs.String("image-path", "", "path for the criu image files")
	fs.String("work-path", "", "path for criu's work files and logs")
	fs.Bool("tcp-established", false, "allow open tcp connections")
	fs.Bool("ext-unix-sk", false, "allow external unix sockets")
	fs.Bool("shell-job", false, "allow shell jobs")
	fs.Bool("file-locks", false, "handle file locks")
	fs.String("manage-cgroups-mode", "", "cgroups mode: soft, full, strict or ignore")
	fs.Var(new(listFlag), "empty-ns", "create a namespace, but do not restore its properties (repeatable)")
	fs.Bool("auto-dedup", false, "deduplicate memory images")
	fs.Bool("lazy-pages", false, "restore memory pages lazily (userfaultfd)")
	if !restore {
		fs.String("parent-path", "", "path of the previous images (pre-dump)")
		fs.Bool("leave-running", false, "leave the process running after the checkpoint")
		fs.Int("status-fd", -1, "criu writes \\0 to this fd once lazy-pages is ready")
		fs.String("page-server", "", "ADDRESS:PORT of the page server")
		fs.Bool("pre-dump", false, "dump the memory only, leave the container running")
		return
	}
	fs.String("console-socket", "", "AF_UNIX socket path that receives the pty master")
	fs.String("bundle", "", "path to the bundle")
	fs.String("b", "", "shorthand for --bundle")
	fs.Bool("detach", false, "detach from the container's process")
	fs.Bool("d", false, "shorthand for --detach")
	fs.String("pid-file", "", "write the init's pid to this file")
	fs.Bool("no-subreaper", false, "do not become the subreaper of the container's processes")
	fs.Bool("no-pivot", false, "do not use pivot_root")
	fs.String("lsm-profile", "", "LSM profile of the restored process")
	fs.String("lsm-mount-context", "", "SELinux mount context of the restored mounts")
}

// criuCommand is checkpoint or restore. Both take runc 1.1's flags, so a
// caller's command line parses, and then refuse: they need CRIU, which
// ctr-lite does not drive (runc without criu fails the same way, exit 1).
func criuCommand(name string) *command {
	restore := name == "restore"
	return &command{
		name:  name,
		runc:  true,
		args:  "[flags] ID",
		short: name + " a container with CRIU (not supported: refused)",
		flags: func(fs *flag.FlagSet) { criuFlags(fs, restore) },
		run: func(g *globals, _ *flag.FlagSet, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			if !restore {
				if _, err := rootOf(g).Describe(id); err != nil {
					return opError(name, id, err)
				}
			}
			return opError(name, id, errorf("needs CRIU (--criu %q), which ctr-lite does not support", g.criu))
		},
	}
}
