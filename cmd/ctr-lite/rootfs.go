package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/container"
	"github.com/ctr-lite/ctr-lite/rootfs"
)

// rootfsFlags collect the mounts in the order given on the command line:
// --proc, --dev, --tmpfs and --mount all append to one list.
type rootfsFlags struct {
	cfg          rootfs.Config
	chroot       bool
	pivot        bool
	defaultPaths bool
}

// rootfsOpts are rootfs's flags.
var rootfsOpts rootfsFlags

var rootfsCommand = &command{
	name:  "rootfs",
	args:  "[flags] ROOTFS [--] CMD [ARG...]",
	short: "run CMD with ROOTFS as its root directory, in a new mount namespace",
	long: `Unshares a mount namespace, mounts what the flags ask inside ROOTFS, makes
ROOTFS the root (pivot_root, or chroot with --chroot), and executes CMD there
(found in the new root's PATH). Exits with CMD's status. The host's mount
table is never changed: everything happens in the new namespace.

Mounts are made in the order given. --mount takes TYPE:SOURCE:DEST[:OPTIONS],
with OPTIONS as in mount(8) and config.json: ro, nosuid, nodev, noexec,
relatime, ..., bind/rbind, private/shared/slave/unbindable (and r* forms),
and filesystem options such as mode=1777 or size=64m. Type "bind" is a bind
mount of the host path SOURCE. DEST is inside ROOTFS: symlinks in ROOTFS
are resolved inside it, never out of it.

Examples:
  ctr-lite rootfs --proc --dev /tmp/rootfs -- cat /proc/self/mountinfo
  ctr-lite rootfs --proc --readonly --tmpfs /tmp /tmp/rootfs sh
  ctr-lite rootfs --mount bind:/srv/data:/data:ro,nosuid /tmp/rootfs -- ls /data
  ctr-lite rootfs --proc --default-paths --mask /etc/hostname /tmp/rootfs -- sh
  ctr-lite rootfs --explain --chroot --proc /tmp/rootfs -- true`,
	flags: rootfsOpts.declare,
	run: func(g *globals, fs *flag.FlagSet, args []string) error {
		return rootfsOpts.run(g, args)
	},
}

func (f *rootfsFlags) declare(fs *flag.FlagSet) {
	addMount := func(m specs.Mount) { f.cfg.Mounts = append(f.cfg.Mounts, m) }
	fs.BoolVar(&f.pivot, "pivot", true, "make ROOTFS the root with pivot_root(2)")
	fs.BoolVar(&f.chroot, "chroot", false, "use MS_MOVE + chroot(2) instead of pivot_root (runc --no-pivot)")
	fs.BoolVar(&f.cfg.Readonly, "readonly", false, "remount the root read-only once set up (root.readonly)")
	fs.StringVar(&f.cfg.Propagation, "propagation", "", "rootfsPropagation `TYPE` of the new /: private, rprivate, slave,\nrslave, shared, rshared, unbindable or runbindable (default: rslave, as runc)")
	fs.Func("mount", "mount `TYPE:SOURCE:DEST[:OPT,...]` (repeatable), e.g.\ntmpfs:tmpfs:/run:mode=755 or bind:/host/dir:/mnt:ro", func(s string) error {
		m, err := rootfs.ParseMountSpec(s)
		if err != nil {
			return err
		}
		if m.Type == "bind" && m.Source != "" && !filepath.IsAbs(m.Source) {
			if m.Source, err = filepath.Abs(m.Source); err != nil {
				return err
			}
		}
		addMount(m)
		return nil
	})
	fs.BoolFunc("proc", "mount proc on /proc (nosuid,noexec,nodev)", func(string) error {
		addMount(specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}})
		return nil
	})
	fs.BoolFunc("dev", "a minimal /dev: tmpfs, devpts, shm, mqueue, the default devices\nand links", func(string) error {
		for _, m := range minimalDev() {
			addMount(m)
		}
		f.cfg.SetupDev = true
		return nil
	})
	fs.Func("tmpfs", "mount a tmpfs on `DEST` (nosuid,nodev; repeatable)", func(s string) error {
		addMount(specs.Mount{Destination: s, Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}})
		return nil
	})
	fs.Func("mask", "hide `PATH`: /dev/null over a file, an empty read-only tmpfs over a\ndirectory (repeatable)", func(s string) error {
		f.cfg.MaskedPaths = append(f.cfg.MaskedPaths, s)
		return nil
	})
	fs.Func("readonly-path", "make `PATH` read-only (repeatable)", func(s string) error {
		f.cfg.ReadonlyPaths = append(f.cfg.ReadonlyPaths, s)
		return nil
	})
	fs.BoolVar(&f.defaultPaths, "default-paths", false, "add the masked and readonly paths that runc spec writes\n(/proc/kcore, /proc/sys, /sys/firmware, ...)")
}

// minimalDev is the /dev of `runc spec`'s config.json: the /dev mounts
// of container.DefaultSpec.
func minimalDev() []specs.Mount {
	var dev []specs.Mount
	for _, m := range container.DefaultSpec().Mounts {
		if m.Destination == "/dev" || strings.HasPrefix(m.Destination, "/dev/") {
			dev = append(dev, m)
		}
	}
	return dev
}

func (f *rootfsFlags) run(g *globals, args []string) error {
	if len(args) == 0 {
		return usagef("no ROOTFS given")
	}
	dir, cmd := args[0], args[1:]
	if len(cmd) > 0 && cmd[0] == "--" {
		cmd = cmd[1:]
	}
	if len(cmd) == 0 {
		return usagef("no command given")
	}
	cfg := f.cfg
	cfg.NoPivot = f.chroot || !f.pivot
	if f.defaultPaths {
		cfg.MaskedPaths = append(rootfs.DefaultMaskedPaths(), cfg.MaskedPaths...)
		cfg.ReadonlyPaths = append(rootfs.DefaultReadonlyPaths(), cfg.ReadonlyPaths...)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	cfg.Rootfs = abs
	return rootfs.Exec(cfg, cmd, os.Environ(), g.runner("rootfs"))
}
