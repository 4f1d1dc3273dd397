package rootfs

import (
	"fmt"
	"os"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rawPlan is what the parent decides for RawSteps before the child
// exists: everything it can know (a bind source is a directory or a file,
// where the mount holding the rootfs is, which cgroup groups to bind).
type rawPlan struct {
	rootMount string      // mount point of the mount holding the rootfs
	mounts    []rawMount  // one per Config.Mounts
	v2mnt     string      // the host's cgroup2 mount, for the cgroup2 EPERM fallback
	cgroups   []rawCgroup // a cgroup v1/hybrid "cgroup" mount's binds
}

// rawMount is one config mount, decided.
type rawMount struct {
	opts   mountOptions
	dest   string
	late   *lateMount // made read-only/recursive at the end
	srcDir bool       // a bind's source is a directory
	kind   rawKind
}

type rawKind int

const (
	rawFs       rawKind = iota // a new filesystem instance (proc, tmpfs, cgroup2 ...)
	rawBind                    // a bind mount of a host path
	rawCgroupV1                // a tmpfs of cgroup v1 hierarchies, each bound from the host
)

// rawCgroup is one hierarchy of a cgroup v1 or hybrid host: the
// container's own group (src, a host path) bound at dir below the
// "cgroup" mount.
type rawCgroup struct {
	name, src string
}

// rawTypes are the filesystems RawSteps mounts itself: each parses its
// options the same way from mount(2)'s data and from fsconfig(2).
var rawTypes = []string{"proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2"}

// maxLate is how many read-only mounts with something below them a raw
// program pins (one register each) before leaving it to the Go init.
const maxLate = 24

// planRaw decides what can be: why is "" or the reason c needs the Go init.
func planRaw(s *setup) (pl *rawPlan, why string) {
	c := &s.cfg
	if why := rawKernelWhy(); why != "" {
		return nil, why
	}
	switch {
	case len(c.MountSources) > 0:
		return nil, "bind sources opened outside the user namespace (mount fds) are bound by the Go init"
	case len(c.BeforeFinal) > 0:
		return nil, "the terminal is bound onto /dev/console by the Go init"
	}
	pl = &rawPlan{}
	mp, err := mountPointHolding(s.rootReal)
	if err != nil {
		return nil, fmt.Sprintf("the mount holding the rootfs: %v", err)
	}
	pl.rootMount = mp
	late := 0
	for i, m := range c.Mounts {
		rm, why := planMount(s, pl, i, m)
		if why != "" {
			return nil, fmt.Sprintf("mount %d (%s on %s): %s", i+1, m.Type, m.Destination, why)
		}
		if rm.late != nil {
			late++
		}
		pl.mounts = append(pl.mounts, rm)
	}
	if late > maxLate {
		return nil, fmt.Sprintf("%d read-only mounts with mounts below them, more than the %d a raw program pins", late, maxLate)
	}
	if c.SetupDev {
		// devMode keeps only the permission bits: no set-user-ID bit for
		// the chown to clear.
		for _, d := range c.devices() {
			if d.Type == "p" {
				return nil, "device " + d.Path + ": a FIFO found in place is checked by its type, which needs Go"
			}
		}
	}
	for _, part := range strings.Split(c.Cwd, "/") {
		if part == ".." {
			return nil, "process.cwd " + c.Cwd + ` has "..": made by the Go init`
		}
	}
	return pl, ""
}

// planMount decides mount i, as mountSteps would do it.
func planMount(s *setup, pl *rawPlan, i int, m specs.Mount) (rawMount, string) {
	opts, err := parseOptions(m)
	if err != nil {
		return rawMount{}, err.Error() // Validate refused it already
	}
	rm := rawMount{opts: opts, dest: path.Clean(m.Destination)}
	if s.cfg.lateAttrs(i) {
		rm.late = &lateMount{dest: rm.dest, ro: opts.flags&unix.MS_RDONLY != 0, rec: opts.rec}
		rm.opts.flags &^= unix.MS_RDONLY
		rm.opts.rec = unix.MountAttr{}
	}
	if opts.copyUp {
		return rm, "tmpcopyup copies the directory a tmpfs covers into it, a tree walk done by the Go init"
	}
	if opts.bind() {
		rm.kind = rawBind
		fi, err := os.Stat(m.Source)
		if err != nil {
			return rm, fmt.Sprintf("bind source: %v", err)
		}
		rm.srcDir = fi.IsDir()
		rest := rm.opts.flags &^ (unix.MS_BIND | unix.MS_REC)
		if rest != 0 || rm.opts.clear != 0 {
			if _, ok := setattrFor(rest, rm.opts.clear); !ok {
				return rm, "these flags on a bind need a remount computed from the mount's current flags, done by the Go init"
			}
		}
		return rm, ""
	}
	if !contains(rawTypes, m.Type) {
		return rm, "filesystem type " + plain(m.Type) + " is mounted by the Go init"
	}
	if _, ok := fsAttrs(rm.opts.flags); !ok {
		return rm, "flags " + FormatFlags(rm.opts.flags) + " are mounted by the Go init"
	}
	switch {
	case m.Type == "cgroup" && !hostUnified():
		return planCgroupV1(s, pl, rm)
	case m.Type == "cgroup":
		pl.v2mnt = "/sys/fs/cgroup" // what hostUnified found there
	case m.Type == "cgroup2" && pl.v2mnt == "":
		if _, v2, err := cgroupLayout(); err == nil {
			pl.v2mnt = v2
		}
	}
	return rm, ""
}

// planCgroupV1 decides the binds of a "cgroup" mount on a cgroup v1 or
// hybrid host: the container's own group of each hierarchy in
// Config.CgroupView, as bindOwnHierarchy makes them.
func planCgroupV1(s *setup, pl *rawPlan, rm rawMount) (rawMount, string) {
	rm.kind = rawCgroupV1
	cv := s.cfg.CgroupView
	if cv == nil {
		return rm, "cgroup v1: without the container's cgroup view each hierarchy is mounted anew by the Go init"
	}
	if len(pl.cgroups) > 0 {
		return rm, "a second cgroup v1 mount is made by the Go init"
	}
	if _, ok := mountAttrs(rm.opts.flags &^ unix.MS_RDONLY); !ok {
		return rm, "flags " + FormatFlags(rm.opts.flags) + " on the cgroup tmpfs are mounted by the Go init"
	}
	if rest := rm.cgroupFlags() &^ unix.MS_REC; rest != 0 {
		if _, ok := setattrFor(rest, 0); !ok {
			return rm, "these flags on a cgroup bind need a remount computed from the mount's current flags, done by the Go init"
		}
	}
	var v1, v2 []v1Hierarchy
	for _, h := range cv.mounts {
		if h.opts == "" {
			v2 = append(v2, h)
		} else {
			v1 = append(v1, h)
		}
	}
	for _, h := range append(v1, v2...) {
		dir, ok := cv.ownGroupDir(h)
		if !ok {
			return rm, "cgroup " + h.name + ": the container's group is not below the host's mount; mounted anew by the Go init"
		}
		if fi, err := os.Lstat(dir); !cv.unmade && (err != nil || !fi.IsDir()) {
			return rm, "cgroup " + h.name + ": " + dir + " is not a directory here; mounted anew by the Go init"
		}
		name := h.name
		if h.opts == "" {
			name = "unified"
		}
		pl.cgroups = append(pl.cgroups, rawCgroup{name: name, src: dir})
	}
	return rm, ""
}

// cgroupFlags are the flags of each hierarchy's bind: read-only even
// when the tmpfs holding them is made so only at the end.
func (rm rawMount) cgroupFlags() uintptr {
	if rm.late != nil && rm.late.ro {
		return rm.opts.flags | unix.MS_RDONLY
	}
	return rm.opts.flags
}

// sbFlags are the mount(2) flags that are the filesystem's (superblock
// flags), by the name fsconfig(2) FSCONFIG_SET_FLAG takes: mount(2) sets
// them on a new instance along with the mount's own flags.
var sbFlags = []namedFlag{
	{"ro", unix.MS_RDONLY},
	{"sync", unix.MS_SYNCHRONOUS},
	{"dirsync", unix.MS_DIRSYNC},
	{"lazytime", unix.MS_LAZYTIME},
}

// fsAttrs maps a new mount's mount(2) flags to fsmount(2)'s attributes
// (the superblock flags go to fsconfig, see sbFlags; MS_SILENT only
// quiets the kernel log); ok is false for one that maps to neither
// (MS_MANDLOCK).
func fsAttrs(flags uintptr) (uint64, bool) {
	for _, f := range sbFlags {
		if f.flag != unix.MS_RDONLY {
			flags &^= f.flag
		}
	}
	return mountAttrs(flags &^ unix.MS_SILENT)
}
